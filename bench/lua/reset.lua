-- POST a reset request for an address taken in turn from a file of lines.
-- wrk -s reset.lua URL -- FILE PROJECT [LIMIT]
-- With LIMIT, each address is asked for once and the thread stops after
-- LIMIT requests (used to prepare one reset per account).
local addrs = {}
local project
local n = 0
local sent = 0
local limit

function init(args)
	for line in io.lines(args[1]) do
		addrs[#addrs + 1] = line
	end
	project = args[2]
	limit = tonumber(args[3])
	if not limit then
		n = math.random(#addrs)
	end
end

function response()
	if limit and sent >= limit then
		wrk.thread:stop()
	end
end

function request()
	sent = sent + 1
	if limit and sent > limit then
		-- Stopping takes effect at the next response; ask for nothing new.
		return wrk.format("GET", "/healthz")
	end
	n = n % #addrs + 1
	return wrk.format("POST", "/password/reset/request?projectId=" .. project,
	    { ["Content-Type"] = "application/json" },
	    '{"username":"' .. addrs[n] .. '"}')
end
