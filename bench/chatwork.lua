-- chatwork.lua: a work count for the chat dissector, without a clock (issue 20 item 8). Loaded
-- after wireshark/netlab_chat.lua, it takes TCP port 7000, hands each segment on to the chat
-- dissector and adds up the bytes TCP gave it; tshark prints "chatwork calls=N bytes=B" at the end.
--   tshark -X lua_script:wireshark/netlab_chat.lua -X lua_script:bench/chatwork.lua -r chat.pcap -q
local chat = Dissector.get("netlabchat")
local w = Proto("chatwork", "bytes handed to the chat dissector")
local calls, bytes = 0, 0
function w.dissector(buf, pinfo, tree)
    calls = calls + 1
    bytes = bytes + buf:len()
    return chat:call(buf, pinfo, tree)
end
DissectorTable.get("tcp.port"):add(7000, w)
local tap = Listener.new("frame")
function tap.draw() io.stdout:write(string.format("chatwork calls=%d bytes=%d\n", calls, bytes)) end
