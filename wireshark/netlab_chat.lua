-- netlab_chat.lua: a Wireshark/tshark dissector for netlab's chat protocol
-- (docs/PROTOCOL.md): one text line per command, reply or event, LF or CRLF
-- terminated. Each line becomes a "netlabchat" item with its verb, its
-- arguments and the user it names. Registered on TCP port 7000 (chatserver's
-- usual port) and offered in Decode As for any other port:
--   tshark -X lua_script:netlab_chat.lua -d tcp.port==7001,netlabchat -r chat.pcap -Y 'netlabchat.verb == "MSG"'
-- Installed by `make install` into Wireshark's personal plugin folder of the
-- installing user (~/.local/lib/wireshark/plugins), or PLUGINDIR=...
--
-- Linear in the bytes it is given (issue 20 item 8): each segment is read once as a
-- Lua string and its line ends found with string.find (C), never byte by byte; a
-- line split across segments is reassembled by TCP only up to MAX_LINE bytes, twice
-- the longest line the protocol allows. A longer run without a line end is no chat
-- line (the server answers ERR 413): it is marked "overlong" with an expert warning
-- and its continuation in later segments is recognised, without asking TCP for more.
local p = Proto("netlabchat", "netlab chat protocol")

local f_line = ProtoField.string("netlabchat.line", "Line")
local f_verb = ProtoField.string("netlabchat.verb", "Verb")
local f_args = ProtoField.string("netlabchat.args", "Arguments")
local f_user = ProtoField.string("netlabchat.user", "User")
local f_text = ProtoField.string("netlabchat.text", "Message text")
local f_code = ProtoField.uint16("netlabchat.code", "Error code")
local f_kind = ProtoField.string("netlabchat.kind", "Kind")  -- command, reply, event, line, overlong
local f_overlong = ProtoField.uint32("netlabchat.overlong", "Bytes of an overlong line in this segment")
p.fields = { f_line, f_verb, f_args, f_user, f_text, f_code, f_kind, f_overlong }
local e_overlong = ProtoExpert.new("netlabchat.overlong.expert", "A line longer than any chat line",
                                   expert.group.PROTOCOL, expert.severity.WARN)
p.experts = { e_overlong }

-- Commands (client -> server) whose first argument names a user.
local names_user = { NICK = true, CHAT = true, ACCEPT = true, DECLINE = true, MSG = true, LEAVE = true, WHO = true }
-- Events (server -> client): the first argument is the user who caused them.
local events = { REQUEST = true, ACCEPTED = true, DECLINED = true, FROM = true, LEFT = true, GONE = true,
                 JOINED = true, PARTED = true, ROOM = true }
local replies = { OK = true, ERR = true, USERS = true, USER = true, SESSIONS = true, PONG = true, HELLO = true }
local default_port = 7000
-- A client line is at most 4096 bytes, a server's FROM/ROOM line 4140 (docs/PROTOCOL.md): past
-- twice that without a line end the bytes are no chat line, and TCP is not asked for more.
local MAX_LINE = 8192

-- The first pass walks each direction of each TCP stream in order: `inside` says that
-- direction is in the middle of an overlong line. What each frame started in is kept by
-- frame number, for the later passes (Wireshark's GUI, tshark -2) that revisit frames.
local f_stream = Field.new("tcp.stream")
local inside = {}
local frame_inside = {}

local function words(s)
    local verb, rest = s:match("^(%S+) ?(.*)$")
    return verb or "", rest or ""
end

-- Which fields this pass needs: all when the tree is shown, else those a filter, a column or a
-- tap asks for (tshark -r alone needs none, only the Info column): nil when none is needed.
-- want[p] says the protocol itself is asked for (a filter "netlabchat").
local all_fields = { f_line, f_verb, f_args, f_user, f_text, f_code, f_kind, f_overlong }
local everything = { [p] = true, text = true }
for i = 1, #all_fields do everything[all_fields[i]] = true end
local handle
local function wanted(tree)
    if tree.visible then return everything end
    handle = handle or Dissector.get("netlabchat")
    local want, any = {}, false
    if tree:referenced(handle) then want[p], any = true, true end
    for i = 1, #all_fields do
        if tree:referenced(all_fields[i]) then want[all_fields[i]], any = true, true end
    end
    -- want.text: the line's text and what follows its verb are needed, not only the verb and kind.
    want.text = want[f_line] or want[f_args] or want[f_user] or want[f_text] or want[f_code]
    return any and want or nil
end

-- A line's kind, from its verb (upper case) and its direction.
local function kind_of(VERB, from_server)
    if not from_server then return "command" end
    if events[VERB] then return "event" end
    return replies[VERB] and "reply" or "line"
end

-- What a line says beyond its verb (text: the line, its end removed): arguments, the user it
-- names, the message it carries, an error code. Decides only; dissect_line words it.
local function parse_rest(text, VERB, from_server)
    local _, rest = words(text)
    local user, msg, code
    if from_server then
        if events[VERB] then
            user, msg = rest:match("^(%S+) ?(.*)$")
        elseif VERB == "OK" then
            local what, arg = rest:match("^(%S+) ?(.*)$")
            if what and names_user[what:upper()] and arg ~= "" then user = arg:match("^(%S+)") end
        elseif VERB == "ERR" then
            code = tonumber(rest:match("^(%d+)"))
        elseif VERB == "USER" then
            user = rest:match("^(%S+)")
        end
    elseif names_user[VERB] then
        user = rest:match("^(%S+)")
        if VERB == "MSG" then msg = rest:match("^%S+ (.*)$") end
    elseif VERB == "SAY" then
        msg = rest
    end
    if user == "" then user = nil end
    return rest, user, msg, code
end

-- One line at buf(off, len), whose bytes (its line end included) are s[at .. at + len - 1].
-- Returns its verb (upper case, as the Info column shows it). With the tree shown, one item per
-- line with its fields, each spanning the line; otherwise only the fields asked for, under `tree`
-- (then the segment's one protocol item) on `range` (the segment: no one sees it, and one range
-- serves every line).
local function dissect_line(buf, off, len, s, at, tree, from_server, want, range)
    local VERB = (s:match("^%S+", at) or ""):upper()  -- as words() reads it: %S stops at CR and LF
    if not want then return VERB end
    local text, rest, user, msg, code
    if want.text then
        local last = at + len - 2  -- the byte before the LF
        if last >= at and s:byte(last) == 13 then last = last - 1 end
        text = s:sub(at, last)
        rest, user, msg, code = parse_rest(text, VERB, from_server)
    end
    local item = tree
    if want == everything then
        range = buf(off, len)
        item = tree:add(p, range, "netlab chat: " .. text)
    end
    if want[f_line] then item:add(f_line, range, text) end
    if want[f_verb] then item:add(f_verb, range, VERB) end
    if want[f_args] and rest ~= "" then item:add(f_args, range, rest) end
    if want[f_kind] then item:add(f_kind, range, kind_of(VERB, from_server)) end
    if want[f_code] and code then item:add(f_code, range, code) end
    if want[f_user] and user then item:add(f_user, range, user) end
    if want[f_text] and msg then item:add(f_text, range, msg) end
    return VERB
end

-- Bytes of an overlong line: marked, and not taken apart; the expert warning once, where it starts.
local function overlong(buf, off, len, tree, starts, ends)
    local range = buf(off, len)
    local item = tree:add(p, range, "netlab chat: " .. len .. " bytes of a line longer than " .. MAX_LINE
                          .. " bytes" .. (starts and "" or ", continued") .. (ends and " (its end)" or ""))
    item:add(f_kind, range, "overlong")
    item:add(f_overlong, range, len)
    if starts then
        item:add_proto_expert_info(e_overlong, "a line longer than " .. MAX_LINE
                                   .. " bytes: no chat line (a server answers ERR 413)")
    end
end

function p.dissector(buf, pinfo, tree)
    local n = buf:len()
    if n == 0 then return 0 end
    local server_port = pinfo.match_uint ~= 0 and pinfo.match_uint or default_port
    local st = f_stream()
    local key = (st and st.value or -1) .. ":" .. pinfo.src_port
    local was_inside
    if pinfo.visited then
        was_inside = frame_inside[pinfo.number]
    else
        was_inside = inside[key]
        frame_inside[pinfo.number] = was_inside
    end
    local s = buf:raw()  -- the segment once, as a Lua string: line ends are found in C
    local want = wanted(tree)
    local range, lines_tree = nil, tree
    if want and want ~= everything then
        -- Nobody sees this tree: one range and (for a filter on the protocol) one item for the segment.
        range = buf(0, n)
    end
    local from_server = pinfo.src_port == server_port
    local off, verbs = 0, {}
    if was_inside then
        -- The middle or the end of an overlong line that began in an earlier segment.
        local nl = s:find("\n", 1, true)
        local len = nl or n
        overlong(buf, 0, len, tree, false, nl ~= nil)
        verbs[1] = "(overlong)"
        off = len
        if not pinfo.visited then inside[key] = (nl == nil) or nil end
    end
    while off < n do
        local nl = s:find("\n", off + 1, true)
        if not nl then
            if n - off <= MAX_LINE then
                -- The line goes on in the next segment: ask TCP for more.
                pinfo.desegment_offset = off
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            else
                -- No line end within MAX_LINE bytes: no chat line; its rest is recognised as it comes.
                overlong(buf, off, n - off, tree, true, false)
                verbs[#verbs + 1] = "(overlong)"
                if not pinfo.visited then inside[key] = true end
                off = n
            end
            break
        end
        local len = nl - off  -- nl is 1-based: the line is s[off + 1 .. nl]
        if len > MAX_LINE then
            overlong(buf, off, len, tree, true, true)
            verbs[#verbs + 1] = "(overlong)"
        else
            -- (for a filter on the protocol, the segment's one item: only once it holds a whole line)
            if want and want ~= everything and want[p] and lines_tree == tree then lines_tree = tree:add(p, range) end
            verbs[#verbs + 1] = dissect_line(buf, off, len, s, off + 1, lines_tree, from_server, want, range)
        end
        off = nl
    end
    if #verbs > 0 then
        pinfo.cols.protocol = "NETLABCHAT"
        pinfo.cols.info = table.concat(verbs, ", ")
    end
    return n  -- with desegment_offset set, TCP keeps the rest for the next segment
end

local tcp_port = DissectorTable.get("tcp.port")
tcp_port:add(default_port, p)
tcp_port:add_for_decode_as(p)
