# gdb script: which functions a run of a program enters, on this machine's CPU (ring picks its
# code by CPU features, so an emulator such as valgrind would see other functions).
#
#   HOT_PROBE_OUT=FILE gdb -q -batch -x scripts/lib/hot-probe.py --args BINARY ARG...
#
# A breakpoint at the start of every function of BINARY's symbol table; each one hit is
# written to FILE (one symbol name a line, every alias of its address) and removed, so a
# function costs one stop however often it runs. BINARY must be unstripped.
import os
import subprocess

import gdb

binary = gdb.current_progspace().filename
names = {}
listing = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
for line in listing.stdout.splitlines():
    fields = line.split()
    if len(fields) == 3 and fields[1] in "tTwW":
        names.setdefault(int(fields[0], 16), []).append(fields[2])

gdb.execute("set pagination off")
gdb.execute("set confirm off")
# The daemon is stopped with SIGTERM from outside: it must see it, not gdb.
gdb.execute("handle SIGTERM SIGINT SIGHUP SIGPIPE SIGCHLD nostop noprint pass")
probes = {address: gdb.Breakpoint(f"*{address:#x}", internal=True) for address in names}

entered = set()
gdb.execute("run")
while gdb.selected_inferior().pid != 0:
    pc = int(gdb.parse_and_eval("$pc"))
    if pc in probes:
        entered.add(pc)
        probes.pop(pc).delete()
    gdb.execute("continue")

with open(os.environ["HOT_PROBE_OUT"], "w") as out:
    for address in sorted(entered):
        for name in names[address]:
            print(name, file=out)
