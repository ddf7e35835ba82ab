-- POST WorkOS's password grant for a user taken in turn from a file of
-- "email password".  wrk -s signin_workos.lua URL -- FILE CLIENT_ID API_KEY
local users = {}
local client, key
local n = 0

function init(args)
	for line in io.lines(args[1]) do
		users[#users + 1] = line
	end
	client = args[2]
	key = args[3]
	n = math.random(#users)
end

function request()
	n = n % #users + 1
	local email, pw = users[n]:match("(%S+) (%S+)")
	return wrk.format("POST", "/user_management/authenticate",
	    { ["Content-Type"] = "application/json",
	      ["Authorization"] = "Bearer " .. key },
	    '{"grant_type":"password","client_id":"' .. client ..
	    '","client_secret":"' .. key .. '","email":"' .. email ..
	    '","password":"' .. pw .. '"}')
end
