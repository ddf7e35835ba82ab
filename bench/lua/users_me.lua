-- GET /users/me with a token taken in turn from a file, one a line.
-- wrk -s users_me.lua URL -- FILE PROJECT
local tokens = {}
local project
local n = 0

function init(args)
	for line in io.lines(args[1]) do
		tokens[#tokens + 1] = line
	end
	project = args[2]
	n = math.random(#tokens)
end

function request()
	n = n % #tokens + 1
	return wrk.format("GET", "/users/me?projectId=" .. project,
	    { ["Authorization"] = "Bearer " .. tokens[n] })
end
