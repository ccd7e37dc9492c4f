/* nis_seconds: a monotonic clock in seconds (never goes back; a 20 ms sleep reads as at least 20 ms). */
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
    return check_done("test_clock");
}
