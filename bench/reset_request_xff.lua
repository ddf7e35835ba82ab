-- wrk script: Xsolla reset requests for existing users, each from a client
-- address named in X-Forwarded-For (the daemon must trust 127.0.0.1).
--
--	wrk -s bench/reset_request_xff.lua URL -- PROJECT_ID USERS CLIENTS v4|v6
--
-- Clients are CLIENTS addresses, 198.18.x.y (v4) or one per /48 of
-- 2001:db8::/32 (v6, so that each client has its own /64, /56 and /48
-- buckets), taken in turn.  Any answer but 204 shows in wrk's "Non-2xx or
-- 3xx responses" line, so a 429 cannot hide.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("id", threads)
end

local project, users, clients, family, n, c

function init(args)
	project = args[1]
	users = tonumber(args[2] or "1000")
	clients = tonumber(args[3] or "1000")
	family = args[4] or "v4"
	n = (id * 7919) % users
	c = (id * 104729) % clients
end

local function client(k)
	if family == "v6" then
		return string.format("2001:db8:%x::1", k)
	end
	return string.format("198.18.%d.%d", math.floor(k / 256) % 256, k % 256)
end

request = function()
	n = n % users + 1
	c = c % clients + 1
	return wrk.format("POST", "/password/reset/request?projectId=" .. project,
	    { ["Content-Type"] = "application/json",
	      ["X-Forwarded-For"] = client(c) },
	    '{"username":"bench-' .. n .. '@example.com"}')
end
