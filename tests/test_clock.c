/* nis_seconds: a monotonic clock in seconds (never goes back; a 20 ms sleep reads as at least 20 ms).  nis_cpu_seconds:
 * the process's CPU time (a sleep adds almost none of it; a busy loop of 20 ms of wall time at least 10 ms). */
#include "check.h"
#include "nis/core.h"

#include <time.h>

int main(void) {
    double t0 = nis_seconds(), prev = t0;
    int back = 0;
    for (int i = 0; i < 1000; i++) {
        double t = nis_seconds();
        back += t < prev;
        prev = t;
    }
    CHECK(back == 0, "went back %d times in 1000 reads", back);
    nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 20000000}, NULL);
    double dt = nis_seconds() - t0;
    CHECK(dt >= 0.02 && dt < 60, "a 20 ms sleep took %.6f s", dt);
    double c0 = nis_cpu_seconds();
    nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 20000000}, NULL);
    double slept = nis_cpu_seconds() - c0;
    CHECK(slept >= 0 && slept < 0.015, "a 20 ms sleep used %.6f s of CPU", slept);
    volatile double acc = 0;
    double w0 = nis_seconds();
    c0 = nis_cpu_seconds();
    while (nis_seconds() - w0 < 0.02) acc += 1;   /* spin: CPU time grows with wall time (on a loaded machine less) */
    double busy = nis_cpu_seconds() - c0;
    CHECK(busy > 0.002 && busy < 60 && acc > 0, "a 20 ms busy loop used %.6f s of CPU", busy);
    return check_done("test_clock");
}
