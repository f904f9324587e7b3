/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * what the fault-injection tests share: revaerd with HTTP on a port of the
 * test's own, one workload of writes (adds, a pause, labels, a removal, a
 * settings change, an API key) run with and without a fault, and the
 * daemon's durable state as one text to compare between the runs
 */

#include "rv-test-http.h"

G_BEGIN_DECLS

typedef struct {
        RvTestHttp t;
        /* [store] lines and extra environment, set before the first start */
        char *store_config;
        /* the torrents of the workload, by index: object paths, NULL before the add */
        char *paths[8];
} RvFaultsDaemon;

/* the operations of the workload's faulty phase, in order */
typedef enum {
        RV_FAULTS_OP_PAUSE,
        RV_FAULTS_OP_LABELS,
        RV_FAULTS_OP_SETTINGS,
        RV_FAULTS_OP_ADD,
        RV_FAULTS_OP_REMOVE,
        RV_FAULTS_OP_KEY,
        RV_FAULTS_OP_LAST,
} RvFaultsOp;

typedef struct {
        /* the daemon answered success */
        gboolean acked[RV_FAULTS_OP_LAST];
        /* the D-Bus error of those that failed */
        char *errors[RV_FAULTS_OP_LAST];
        /* the settings revision before the phase */
        guint64 revision_before;
} RvFaultsOutcome;

void rv_faults_outcome_clear(RvFaultsOutcome *o);

/* harness, config (with store_config), HTTP drop-in, environment: then start and wait until /health answers 200 */
void rv_faults_daemon_setup(RvFaultsDaemon *d, const char *store_config);
void rv_faults_daemon_start(RvFaultsDaemon *d);
void rv_faults_daemon_teardown(RvFaultsDaemon *d);
/* SIGTERM, which must end with status 0 */
void rv_faults_daemon_stop(RvFaultsDaemon *d);

/* the workload before any fault: three torrents */
void rv_faults_workload_prepare(RvFaultsDaemon *d);
/* the faulty phase: each operation once, whatever the answer (written into o) */
void rv_faults_workload_run(RvFaultsDaemon *d, RvFaultsOutcome *o);
/* the same in two parts: the first n operations, then the others */
void rv_faults_workload_run_first(RvFaultsDaemon *d, RvFaultsOutcome *o, guint n);
void rv_faults_workload_run_rest(RvFaultsDaemon *d, RvFaultsOutcome *o, guint n);
/* a client that was refused tries again once the service is healthy: the refused operations again, until acked */
void rv_faults_workload_retry(RvFaultsDaemon *d, const RvFaultsOutcome *o);
/*
 * after a restart: what was acknowledged is there, what was refused is not
 * (asserts; the refused ones have not been tried again yet)
 */
void rv_faults_workload_check(RvFaultsDaemon *d, const RvFaultsOutcome *o);

/* the service's mode follows the keys the outcome says exist (within 10 s; asserts) */
void rv_faults_wait_mode(RvFaultsDaemon *d, const RvFaultsOutcome *o);

/* torrents (hash, name, paused, labels), settings (revision, download limit, history length), API key labels */
char *rv_faults_snapshot(RvFaultsDaemon *d);
/* the snapshot of the same workload without faults (the same store_config), made once per test program */
const char *rv_faults_reference(const char *store_config);

/* /health's status, with the Health property of the bus agreeing */
char *rv_faults_health(RvFaultsDaemon *d);
/* the store's reason in Degraded, NULL when it is not listed */
char *rv_faults_store_reason(RvFaultsDaemon *d);
/* polls until health is want (and the store's reason has needle); asserts on timeout */
void rv_faults_wait_health(RvFaultsDaemon *d, const char *want, const char *needle, guint timeout_s);

G_END_DECLS
