# Times commands in turn, run after run (A B C A B C ...), so a drift of the machine's speed
# touches them alike; run 0 is a warm-up. Each command's "{OUT}" becomes a fresh folder.
# Prints the median wall time and the largest peak memory of each (GNU time's, of the
# largest single process), and each median against BASELINE's.
#   python3 benches/alternate.py RUNS BASELINE NAME=COMMAND [NAME=COMMAND ...]
import shlex
import statistics
import subprocess
import sys
import tempfile


def main():
    runs, baseline = int(sys.argv[1]), sys.argv[2]
    commands = dict(arg.split("=", 1) for arg in sys.argv[3:])
    times = {name: [] for name in commands}
    for run in range(runs + 1):
        for name, command in commands.items():
            with tempfile.TemporaryDirectory() as out, tempfile.NamedTemporaryFile("r") as measured:
                words = shlex.split(command.replace("{OUT}", out))
                subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", measured.name, *words], check=True)
                wall, peak = measured.read().split()[-2:]
            if run > 0:
                times[name].append((float(wall), int(peak) / 1024))
    base = statistics.median(wall for wall, _ in times[baseline])
    print(f"median of {runs} runs")
    for name, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        peak = max(p for _, p in measured)
        print(f"{name:<12} {wall:6.2f} s  peak {peak:5.0f} MiB  {wall / base:5.2f}x {baseline}")


if __name__ == "__main__":
    main()
