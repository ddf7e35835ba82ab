-- POST a confirm with a fresh reset code per request, from a file of
-- "code user_id" lines split between wrk's threads.
-- wrk -s confirm.lua URL -- FILE PROJECT
local codes = {}
local project
local n = 0
local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
	threads[#threads + 1] = thread
end

function init(args)
	local all = {}
	for line in io.lines(args[1]) do
		all[#all + 1] = line
	end
	-- Thread k takes every line k of #threads, so no code is sent twice.
	local t = id or 1	-- set per thread by setup()
	local nthreads = tonumber(args[3]) or 1
	for i = t, #all, nthreads do
		codes[#codes + 1] = all[i]
	end
	project = args[2]
end

function request()
	n = n + 1
	local line = codes[n] or codes[#codes]
	local code, user = line:match("(%S+) (%S+)")
	return wrk.format("POST", "/password/reset/confirm?projectId=" .. project,
	    { ["Content-Type"] = "application/json" },
	    '{"reset_code":"' .. code .. '","user_id":"' .. user ..
	    '","new_password":"bench passphrase ' .. n .. '"}')
end
