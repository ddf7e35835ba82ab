-- POST a login for a user taken in turn from a file of "email password".
-- wrk -s login.lua URL -- FILE PROJECT
local users = {}
local project
local n = 0

function init(args)
	for line in io.lines(args[1]) do
		users[#users + 1] = line
	end
	project = args[2]
	n = math.random(#users)
end

function request()
	n = n % #users + 1
	local email, pw = users[n]:match("(%S+) (%S+)")
	return wrk.format("POST", "/login?projectId=" .. project,
	    { ["Content-Type"] = "application/json" },
	    '{"username":"' .. email .. '","password":"' .. pw .. '"}')
end
