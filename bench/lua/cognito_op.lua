-- POST a Cognito operation whose JSON body is taken in turn from a file,
-- one body a line.  wrk -s cognito_op.lua URL -- FILE OPERATION
local bodies = {}
local op
local n = 0

function init(args)
	for line in io.lines(args[1]) do
		bodies[#bodies + 1] = line
	end
	op = args[2]
	n = math.random(#bodies)
end

function request()
	n = n % #bodies + 1
	return wrk.format("POST", "/",
	    { ["Content-Type"] = "application/x-amz-json-1.1",
	      ["X-Amz-Target"] = "AWSCognitoIdentityProviderService." .. op },
	    bodies[n])
end
