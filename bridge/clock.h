#ifndef SB_CLOCK_H
#define SB_CLOCK_H
#include "model.h"
/* The real clocks; the only place the daemon reads them. */
struct sb_now clock_now(void);
#endif
