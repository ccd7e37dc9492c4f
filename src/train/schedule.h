/* src/train/schedule.h — the schedules of a training run: functions of the update number only. */
#ifndef NIS_SRC_TRAIN_SCHEDULE_H
#define NIS_SRC_TRAIN_SCHEDULE_H

#include <stdint.h>

/* σ of update `it`: geometric from start to end over n updates, then end (start <= 0 or n <= 0: end throughout). */
double nis__sched_geometric(double start, double end, int64_t n, int64_t it);
/* Learning rate of update `it` of n: a half cosine from lr to lr_final (lr_final <= 0 or n <= 1: lr throughout). */
double nis__sched_cosine(double lr, double lr_final, int64_t n, int64_t it);

#endif
