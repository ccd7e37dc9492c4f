/* src/train/schedule.c — σ annealing and the cosine learning rate (schedule.h). */
#include "schedule.h"

#include <math.h>

double nis__sched_geometric(double start, double end, int64_t n, int64_t it) {
    if (start <= 0 || n <= 0 || it >= n) return end;
    double f = (double)it / (double)n;
    return exp(log(start) + f * (log(end) - log(start)));
}

double nis__sched_cosine(double lr, double lr_final, int64_t n, int64_t it) {
    if (lr_final <= 0 || n <= 1) return lr;
    double f = (double)(it < n ? it : n - 1) / (double)(n - 1);
    return lr_final + 0.5 * (lr - lr_final) * (1 + cos(3.14159265358979323846 * f));
}
