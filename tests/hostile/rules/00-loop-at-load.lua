-- Hostile: a file that never finishes loading. The instruction budget
-- holds for the file's own code too: it fails to load, with its name and
-- line, and the other files load.

rule "hostile-never-declared" { tags = { "hostile-escaped" } }

local n = 0
while true do n = n + 1 end
