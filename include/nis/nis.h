/* nis/nis.h — the whole public API of libnis.  See README.md and docs/architecture.md. */
#ifndef NIS_NIS_H
#define NIS_NIS_H

#include "nis/core.h"
#include "nis/ops.h"
#include "nis/rng.h"
#include "nis/dist.h"
#include "nis/nn.h"
#include "nis/io.h"
#include "nis/checkpoint.h"
#include "nis/target.h"
#include "nis/train.h"
#include "nis/mcmc.h"
#include "nis/metrics.h"
#include "nis/data.h"
#include "nis/blr.h"
#include "nis/idx.h"
#include "nis/plot.h"
#include "nis/images.h"
#include "nis/fid.h"
#include "nis/classifier_train.h"
#include "nis/ebm.h"
#include "nis/ebm_train.h"
#include "nis/schema.h"

#endif
