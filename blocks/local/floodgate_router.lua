-- Floodgate's run-time traffic router for nginx (lua-nginx-module).
--
-- The loaded nginx.conf carries every app's weights and the generation it was rendered at
-- (`configure`, from init_by_lua). A weight change is written to the shared dict `floodgate`
-- as "<generation>|v1:95,v2:5" by the loopback admin location (`set_weights`), without a reload:
-- every worker reads it on its next request. Whichever of the two is newer serves, so a later
-- reload (new instances, preview change) carries the weights forward and wins again.

local M = {}

local dict = ngx.shared.floodgate
local config_generation = 0
local apps = {} -- app -> { weights = "v1:95,v2:5", versions = { v1 = true }, static = "json" }
local parsed = {} -- "app|spec" -> { total = n, { cumulative, upstream }, ... }
local parsed_count = 0

-- "v1:95,v2:5": comma-separated <version>:<percent> items (Lua patterns cannot repeat groups).
local function valid_spec(spec)
    if type(spec) ~= "string" or spec == "" then
        return false
    end
    for item in string.gmatch(spec .. ",", "([^,]*),") do
        if not string.match(item, "^[%w._%-]+:%d+$") then
            return false
        end
    end
    return true
end

function M.configure(generation, config)
    config_generation = generation
    apps = config
end

function M.seed()
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end

local function parse(app, spec)
    local key = app .. "|" .. spec
    local pools = parsed[key]
    if pools then
        return pools
    end
    if parsed_count > 256 then
        parsed, parsed_count = {}, 0
    end
    pools = { total = 0 }
    for version, weight in string.gmatch(spec, "([^:,]+):(%d+)") do
        weight = tonumber(weight)
        if weight > 0 then
            pools.total = pools.total + weight
            pools[#pools + 1] = { pools.total, "fg_" .. app .. "__" .. version }
        end
    end
    parsed[key] = pools
    parsed_count = parsed_count + 1
    return pools
end

-- The weights serving now: the run-time ones when newer than the loaded config.
local function current(app)
    local runtime = dict:get(app)
    if runtime then
        local generation, spec = string.match(runtime, "^(%d+)|(.*)$")
        generation = tonumber(generation)
        if generation and generation > config_generation then
            return generation, spec
        end
    end
    local conf = apps[app]
    return config_generation, conf and conf.weights or ""
end

-- Upstream name for one request of `app`, or "" when no version is routed.
function M.pick(app)
    local _, spec = current(app)
    local pools = parse(app, spec)
    if pools.total == 0 then
        return ""
    end
    local r = math.random() * pools.total
    for i = 1, #pools do
        if r < pools[i][1] then
            return pools[i][2]
        end
    end
    return pools[#pools][2]
end

local function weights_json(spec)
    local parts = {}
    for version, weight in string.gmatch(spec, "([^:,]+):(%d+)") do
        parts[#parts + 1] = '"' .. version .. '":' .. weight
    end
    return "{" .. table.concat(parts, ",") .. "}"
end

function M.state()
    local entries, top = {}, config_generation
    for app, conf in pairs(apps) do
        local generation, spec = current(app)
        if generation > top then
            top = generation
        end
        entries[#entries + 1] = '"' .. app .. '":{"generation":' .. generation
            .. ',"weights":' .. weights_json(spec) .. "," .. conf.static .. "}"
    end
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Cache-Control"] = "no-store"
    ngx.say('{"router":"lua","generation":' .. top .. ',"config_generation":'
        .. config_generation .. ',"apps":{' .. table.concat(entries, ",") .. "}}")
end

local function refuse(status, message)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.say('{"error":"' .. message .. '"}')
    return ngx.exit(status)
end

-- POST /floodgate/weights?app=<app>&generation=<n>&weights=v1:95,v2:5
function M.set_weights()
    if ngx.req.get_method() ~= "POST" then
        return refuse(405, "use POST")
    end
    local args = ngx.req.get_uri_args()
    local app, generation, spec = args.app, tonumber(args.generation), args.weights
    local conf = type(app) == "string" and apps[app] or nil
    if conf == nil then
        return refuse(404, "app is not in the loaded config")
    end
    if generation == nil or not valid_spec(spec) then
        return refuse(400, "need generation=<int> and weights=<version>:<percent>,...")
    end
    for version, weight in string.gmatch(spec, "([^:,]+):(%d+)") do
        if tonumber(weight) > 0 and not conf.versions[version] then
            return refuse(409, "version " .. version .. " has no upstream in the loaded config")
        end
    end
    local served = current(app)
    if generation <= served then
        return refuse(409, "stale generation " .. generation .. " <= " .. served)
    end
    local ok, err = dict:set(app, generation .. "|" .. spec)
    if not ok then
        return refuse(500, "shared dict: " .. tostring(err))
    end
    ngx.header["Content-Type"] = "application/json"
    ngx.say('{"app":"' .. app .. '","generation":' .. generation .. ',"weights":'
        .. weights_json(spec) .. "}")
end

return M
