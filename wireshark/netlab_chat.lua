-- netlab_chat.lua: a Wireshark/tshark dissector for netlab's chat protocol
-- (docs/PROTOCOL.md): one text line per command, reply or event, LF or CRLF
-- terminated. Each line becomes a "netlabchat" item with its verb, its
-- arguments and the user it names. Registered on TCP port 7000 (chatserver's
-- usual port) and offered in Decode As for any other port:
--   tshark -X lua_script:netlab_chat.lua -d tcp.port==7001,netlabchat -r chat.pcap -Y 'netlabchat.verb == "MSG"'
-- Installed by `make install` into Wireshark's personal plugin folder of the
-- installing user (~/.local/lib/wireshark/plugins), or PLUGINDIR=...

local p = Proto("netlabchat", "netlab chat protocol")

local f_line = ProtoField.string("netlabchat.line", "Line")
local f_verb = ProtoField.string("netlabchat.verb", "Verb")
local f_args = ProtoField.string("netlabchat.args", "Arguments")
local f_user = ProtoField.string("netlabchat.user", "User")
local f_text = ProtoField.string("netlabchat.text", "Message text")
local f_code = ProtoField.uint16("netlabchat.code", "Error code")
local f_kind = ProtoField.string("netlabchat.kind", "Kind")  -- command, reply, event
p.fields = { f_line, f_verb, f_args, f_user, f_text, f_code, f_kind }

-- Commands (client -> server) whose first argument names a user.
local names_user = { NICK = true, CHAT = true, ACCEPT = true, DECLINE = true, MSG = true, LEAVE = true, WHO = true }
-- Events (server -> client): the first argument is the user who caused them.
local events = { REQUEST = true, ACCEPTED = true, DECLINED = true, FROM = true, LEFT = true, GONE = true,
                 JOINED = true, PARTED = true, ROOM = true }
local replies = { OK = true, ERR = true, USERS = true, USER = true, SESSIONS = true, PONG = true, HELLO = true }
local default_port = 7000

local function words(s)
    local verb, rest = s:match("^(%S+) ?(.*)$")
    return verb or "", rest or ""
end

local function dissect_line(buf, off, len, pinfo, tree, server_port)
    local raw = buf(off, len)
    local s = raw:string()
    local text = (s:gsub("\r?\n$", ""))
    local item = tree:add(p, raw, "netlab chat: " .. text)
    item:add(f_line, raw, text)
    local verb, rest = words(text)
    local VERB = verb:upper()
    local from_server = pinfo.src_port == server_port
    item:add(f_verb, raw, VERB)
    if rest ~= "" then item:add(f_args, raw, rest) end
    local user, msg
    if from_server then
        if events[VERB] then
            item:add(f_kind, raw, "event")
            user, msg = rest:match("^(%S+) ?(.*)$")
        else
            item:add(f_kind, raw, replies[VERB] and "reply" or "line")
            if VERB == "OK" then
                local what, arg = rest:match("^(%S+) ?(.*)$")
                if what and names_user[what:upper()] and arg ~= "" then user = arg:match("^(%S+)") end
            elseif VERB == "ERR" then
                local code = tonumber(rest:match("^(%d+)"))
                if code then item:add(f_code, raw, code) end
            elseif VERB == "USER" then
                user = rest:match("^(%S+)")
            end
        end
    else
        item:add(f_kind, raw, "command")
        if names_user[VERB] then
            user = rest:match("^(%S+)")
            if VERB == "MSG" then msg = rest:match("^%S+ (.*)$") end
        elseif VERB == "SAY" then
            msg = rest
        end
    end
    if user and user ~= "" then item:add(f_user, raw, user) end
    if msg then item:add(f_text, raw, msg) end
    return VERB
end

function p.dissector(buf, pinfo, tree)
    local n = buf:len()
    if n == 0 then return 0 end
    local server_port = pinfo.match_uint ~= 0 and pinfo.match_uint or default_port
    local off, verbs = 0, {}
    while off < n do
        local nl
        for i = off, n - 1 do
            if buf(i, 1):uint() == 10 then nl = i break end
        end
        if not nl then
            -- The line goes on in the next segment: ask TCP for more.
            pinfo.desegment_offset = off
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            off = n
            break
        end
        local v = dissect_line(buf, off, nl - off + 1, pinfo, tree, server_port)
        verbs[#verbs + 1] = v
        off = nl + 1
    end
    if #verbs > 0 then
        pinfo.cols.protocol = "NETLABCHAT"
        pinfo.cols.info = table.concat(verbs, ", ")
    end
    return off
end

local tcp_port = DissectorTable.get("tcp.port")
tcp_port:add(default_port, p)
tcp_port:add_for_decode_as(p)
