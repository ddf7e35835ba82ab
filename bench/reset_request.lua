-- wrk script: Xsolla reset requests for existing users.
--
--	wrk -s bench/reset_request.lua URL -- PROJECT_ID USERS
--
-- Users are bench-1@example.com .. bench-USERS@example.com (bench/pg.sh makes
-- them).  Each wrk thread starts at its own offset, so threads do not walk
-- through the same accounts in step.  Any answer but 204 shows in wrk's
-- "Non-2xx or 3xx responses" line.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end

local project, users, n

function init(args)
	project = args[1]
	users = tonumber(args[2] or "1000")
	n = (id * 7919) % users
end

request = function()
	n = n % users + 1
	return wrk.format("POST", "/password/reset/request?projectId=" .. project,
	    { ["Content-Type"] = "application/json" },
	    '{"username":"bench-' .. n .. '@example.com"}')
end
