-- dump.lua IN NAME OUT - compiles one DSL file to Lua bytecode for
-- embedding (embed.cmake), with the chunk name the runtime gives it.
local src = assert(io.open(arg[1], "rb")):read("a")
local f = assert(load(src, "=[tactus]/" .. arg[2], "t"))
assert(io.open(arg[3], "wb")):write(string.dump(f))
