"""Says so in PYFPM_TEST_DIR/slow-started, then waits (at most 20 s) for
PYFPM_TEST_DIR/slow-release: a request that is busy for as long as the
slowlog test needs."""
import os
import time

folder = os.environ["PYFPM_TEST_DIR"]
with open(os.path.join(folder, "slow-started"), "w") as marker:
    marker.write("started")
deadline = time.monotonic() + 20
while not os.path.exists(os.path.join(folder, "slow-release")) and time.monotonic() < deadline:
    time.sleep(0.01)
print("Content-Type: text/plain")
print()
print("slow done")
