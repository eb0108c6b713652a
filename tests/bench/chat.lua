-- tests/bench/chat.lua - wrk script: POSTs the chat body of BODY_FILE (a
-- worker's request body with @MODEL@ for the model), cycling over the
-- models of SIM_MODELS (comma-separated), as the fleet's workers do.
local models = {}
for m in string.gmatch(os.getenv("SIM_MODELS") or "sim-0", "[^,]+") do
    models[#models + 1] = m
end
local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
local template = file:read("*a")
file:close()
local bodies = {}
for i, m in ipairs(models) do
    bodies[i] = (template:gsub("@MODEL@", m))
end
local turn = 0
request = function()
    turn = turn % #bodies + 1
    return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[turn])
end
