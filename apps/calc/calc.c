/*
 * calc.c - ringmesh-calc: the seed's request-response calculator.
 *
 * A `calculator` ring kernel on the last rank (size - 1) evaluates
 * CalculateRequest{expression} messages and answers each with rk_ctx_reply:
 * CalculateResponse{result, success, error (nil when none), error_code (400
 * on error, else nil)}, correlated to the request. Rank 0 sends the
 * expressions (arguments, stdin lines for "-", and the built-in table for
 * --verify) with rk_ask, keeps at most WINDOW requests outstanding, and waits
 * for each future in input order: a reply reaches the future of the request
 * it answers (by correlation_id), whatever order the answers come in. Results
 * print in input order, one line per expression: "EXPR = VALUE" or
 * "error 400: TEXT".
 *
 * Key idea: the expression language lives in calc_parser.c as a pure, total
 * function, so the kernel, the unit test and the libFuzzer target (see
 * fuzz_calc.c) all exercise the same code.
 */
#define _POSIX_C_SOURCE 200809L
#include "calc_cases.h"
#include "calc_parser.h"
#include "../common/app_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALC_REQUEST(F) F(CalculateRequest, expression, STR, _)
#define CALC_RESPONSE(F)                   \
    F(CalculateResponse, result, FLOAT, _) \
    F(CalculateResponse, success, BOOL, _) \
    F(CalculateResponse, error, STR, _)    \
    F(CalculateResponse, error_code, OPT_INT, _)
RK_MESSAGE_DECLARE(CalculateRequest, CALC_REQUEST)
RK_MESSAGE_DEFINE(CalculateRequest, CALC_REQUEST)
RK_MESSAGE_DECLARE(CalculateResponse, CALC_RESPONSE)
RK_MESSAGE_DEFINE(CalculateResponse, CALC_RESPONSE)

#define KERNEL_ID "calculator"
#define WINDOW 64 /* requests in flight: keeps the kernel's mailbox far from full */

static const char usage_text[] =
    "Usage: mpirun -n N ringmesh-calc [OPTIONS] [EXPRESSION | -]...\n"
    "\n"
    "Evaluate arithmetic expressions in a `calculator` ring kernel on the last\n"
    "rank (N-1); rank 0 sends CalculateRequest messages and prints each\n"
    "CalculateResponse, matched by correlation_id, in input order:\n"
    "  EXPR = VALUE            on success\n"
    "  error 400: TEXT         on a bad expression, division by zero, overflow\n"
    "\n"
    "Language: numbers (42, 4.5, .5, 1e3), + - * /, ^ or ** (power, right-\n"
    "associative), unary minus, parentheses, whitespace. An argument starting\n"
    "with '-' that is not an option is an expression (\"-3 * 2\").\n"
    "\n"
    "Arguments:\n"
    "  EXPRESSION         an expression to evaluate (several may be given)\n"
    "  -                  read one expression per line from standard input\n"
    "                     (blank lines are skipped); only rank 0 reads it\n"
    "Options:\n"
    "  --verify           also run the built-in table of good and bad expressions\n"
    "                     through the kernel and check every answer; prints\n"
    "                     VERIFY OK or VERIFY FAILED\n"
    "  --timeout SEC      how long to wait for an answer (default 10, 0.001..3600)\n"
    "  --                 treat every following argument as an expression\n"
    "  -h, --help         show this help and exit\n"
    "\n"
    "Environment: RINGMESH_TRANSPORT=ucx|mpi (default ucx), RINGMESH_LOG=info.\n"
    "Exit status: 0 all expressions evaluated (and VERIFY OK), 1 an expression\n"
    "failed, verification failed or the runtime failed, 2 bad usage.\n"
    "Example: mpirun -n 2 ringmesh-calc \"2 + 2\"   prints   2 + 2 = 4\n";

typedef struct options {
    bool verify;
    double timeout_s;
    app_args_t args;
} options_t;

/* One expression to evaluate and, once answered, its outcome. */
typedef struct job {
    char *expr;       /* owned copy */
    const calc_case_t *check; /* verify case, or NULL for a printed job */
    rk_future_t *reply; /* the pending request, until it is answered */
    bool answered, ok;
    double value;
    long long code;
    char *error;      /* owned copy, NULL when ok */
} job_t;

typedef struct job_list {
    job_t *v;
    size_t n, cap;
} job_list_t;

/* ---- the kernel ------------------------------------------------------------ */

/* Build the response for one request (error text and code only on failure). */
static rk_status_t make_response(const CalculateRequest *req, CalculateResponse **out)
{
    const char *s = RK_STR(req, expression);
    calc_result_t r;
    CalculateResponse *rep = NULL;
    rk_status_t st;

    calc_eval(s, s ? req->expression.len : 0, &r);
    st = CalculateResponse_new_sized(&rep, sizeof r.error + 8);
    if (st != RK_OK) return st;
    rep->result = r.value;
    rep->success = r.ok;
    if (!r.ok) {
        rep->error_code.value = CALC_ERROR_CODE;
        rep->error_code.has = true;
        st = CalculateResponse_set_error(&rep, r.error);
    }
    if (st == RK_OK) st = rk_msg_set_priority(&rep->hdr, req->hdr.priority);
    if (st != RK_OK) {
        rk_msg_free(&rep->hdr);
        return st;
    }
    *out = rep;
    return RK_OK;
}

static void calculator_body(rk_ctx_t *ctx, void *arg)
{
    (void)arg;
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = NULL;
        CalculateResponse *rep = NULL;
        rk_status_t st;

        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        const CalculateRequest *req = CalculateRequest_cast(m);
        if (!req) {
            fprintf(stderr, "calculator: ignoring a %s message\n", m->type ? m->type->name : "untyped");
            rk_msg_free(m);
            continue;
        }
        st = make_response(req, &rep);
        if (st == RK_OK) st = rk_ctx_reply(ctx, m, &rep->hdr);
        if (st != RK_OK) fprintf(stderr, "calculator: cannot answer a request: %s\n", rk_status_str(st));
        if (rep) rk_msg_free(&rep->hdr);
        rk_msg_free(m);
    }
}

/* ---- the job list ---------------------------------------------------------- */

static bool jobs_add(job_list_t *l, const char *expr, size_t len, const calc_case_t *check)
{
    job_t *j;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 64;
        job_t *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv) return false;
        l->v = nv;
        l->cap = ncap;
    }
    j = &l->v[l->n];
    memset(j, 0, sizeof *j);
    j->expr = malloc(len + 1);
    if (!j->expr) return false;
    memcpy(j->expr, expr, len);
    j->expr[len] = '\0';
    j->check = check;
    l->n++;
    return true;
}

static void jobs_free(job_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].expr);
        free(l->v[i].error);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\v\f", *s)) return false;
    return true;
}

/* Append one job per non-blank stdin line. */
static bool read_stdin_jobs(job_list_t *l)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;

    while (ok && (n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (!is_blank(line)) ok = jobs_add(l, line, (size_t)n, NULL);
    }
    free(line);
    return ok;
}

static bool collect_jobs(const options_t *o, job_list_t *l)
{
    if (o->verify)
        for (size_t i = 0; i < CALC_NCASES; i++)
            if (!jobs_add(l, calc_cases[i].expr, strlen(calc_cases[i].expr), &calc_cases[i])) return false;
    for (int i = 0; i < o->args.npos; i++) {
        const char *a = o->args.pos[i];
        bool ok = strcmp(a, "-") == 0 ? read_stdin_jobs(l) : jobs_add(l, a, strlen(a), NULL);
        if (!ok) return false;
    }
    return true;
}

/* ---- the client (rank 0) ---------------------------------------------------- */

static rk_status_t send_job(rk_runtime_t *rt, job_t *j)
{
    CalculateRequest *req = NULL;
    rk_status_t st = CalculateRequest_new_sized(&req, strlen(j->expr) + 16);
    if (st != RK_OK) return st;
    st = CalculateRequest_set_expression(&req, j->expr);
    if (st == RK_OK) st = rk_ask(rt, KERNEL_ID, &req->hdr, &j->reply);
    rk_msg_free(&req->hdr);
    return st;
}

/* Record a response in its job. */
static void take_response(job_t *j, const CalculateResponse *rep)
{
    const char *err = RK_STR(rep, error);
    j->answered = true;
    j->ok = rep->success;
    j->value = rep->result;
    j->code = rep->error_code.has ? rep->error_code.value : 0;
    if (!rep->success) j->error = strdup(err ? err : "(no error text)");
}

static void print_job(const job_t *j)
{
    char num[64];
    const char *s = j->expr;
    size_t n = strlen(s);

    while (n > 0 && strchr(" \t\r\n\v\f", s[n - 1])) n--;
    while (n > 0 && strchr(" \t\r\n\v\f", *s)) {
        s++;
        n--;
    }
    if (j->ok) {
        calc_format(j->value, num, sizeof num);
        printf("%.*s = %s\n", (int)n, s, num);
    } else {
        printf("error %lld: %s\n", j->code, j->error ? j->error : "");
    }
}

/* Wait for job @p j's answer (its future), record it and print it unless it is a verify case. */
static bool finish_job(job_t *j, double timeout_s)
{
    rk_msg_t *m = NULL;
    rk_status_t st = rk_future_wait(j->reply, (int64_t)(timeout_s * 1e6), &m);
    rk_future_free(j->reply);
    j->reply = NULL;
    if (st != RK_OK) {
        fprintf(stderr, "ringmesh-calc: no answer from '%s' within %g s (%s)\n", KERNEL_ID, timeout_s,
                rk_status_str(st));
        return false;
    }
    const CalculateResponse *rep = CalculateResponse_cast(m);
    if (!rep) {
        fprintf(stderr, "ringmesh-calc: an unexpected %s answer\n", m->type ? m->type->name : "untyped");
        rk_msg_free(m);
        return false;
    }
    take_response(j, rep);
    rk_msg_free(m);
    if (!j->check) print_job(j);
    fflush(stdout);
    return true;
}

/* Send every job with at most WINDOW in flight, waiting for (and printing) them in input order. */
static bool run_jobs(rk_runtime_t *rt, job_list_t *l, double timeout_s)
{
    size_t sent = 0, done = 0;
    bool ok = true;

    while (ok && done < l->n) {
        if (sent < l->n && sent - done < WINDOW) {
            rk_status_t st = send_job(rt, &l->v[sent]);
            if (st != RK_OK) {
                fprintf(stderr, "ringmesh-calc: cannot send to '%s': %s\n", KERNEL_ID, rk_status_str(st));
                ok = false;
                break;
            }
            sent++;
            continue;
        }
        ok = finish_job(&l->v[done++], timeout_s);
    }
    for (size_t i = done; i < sent; i++) rk_future_free(l->v[i].reply); /* abandoned after a failure */
    return ok;
}

/* Check the verify jobs against the table; prints VERIFY OK / FAILED. */
static bool verify_jobs(const job_list_t *l)
{
    size_t ncases = 0, bad = 0;
    for (size_t i = 0; i < l->n; i++) {
        const job_t *j = &l->v[i];
        if (!j->check) continue;
        ncases++;
        if (calc_case_matches(j->check, j->ok, j->value, j->error) &&
            (j->ok || j->code == CALC_ERROR_CODE))
            continue;
        bad++;
        printf("VERIFY case '%s': expected %s", j->expr, j->check->ok ? "value " : "error ");
        if (j->check->ok) printf("%.17g", j->check->value);
        else printf("containing '%s' (code 400)", j->check->error);
        if (j->ok) printf(", got value %.17g\n", j->value);
        else printf(", got error %lld '%s'\n", j->code, j->error ? j->error : "");
    }
    if (bad) printf("VERIFY FAILED: %zu of %zu cases wrong\n", bad, ncases);
    else printf("VERIFY OK (%zu cases through the calculator kernel)\n", ncases);
    return bad == 0;
}

static int client(rk_runtime_t *rt, const options_t *o)
{
    job_list_t jobs = {0};
    int rc = APP_EXIT_FAIL;

    if (!collect_jobs(o, &jobs)) {
        fprintf(stderr, "ringmesh-calc: out of memory\n");
        goto out;
    }
    if (!run_jobs(rt, &jobs, o->timeout_s)) goto out;
    rc = APP_EXIT_OK;
    for (size_t i = 0; i < jobs.n; i++)
        if (!jobs.v[i].check && !jobs.v[i].ok) rc = APP_EXIT_FAIL;
    if (o->verify && !verify_jobs(&jobs)) rc = APP_EXIT_FAIL;
out:
    jobs_free(&jobs);
    return rc;
}

/* ---- main -------------------------------------------------------------------- */

static int parse(int argc, char **argv, options_t *o)
{
    const app_opt_t opts[] = {
        {"verify", APP_OPT_FLAG, &o->verify, 0, 0, 0, 0},
        {"timeout", APP_OPT_DOUBLE, &o->timeout_s, 0, 0, 0.001, 3600},
        {NULL, APP_OPT_FLAG, NULL, 0, 0, 0, 0},
    };
    o->verify = false;
    o->timeout_s = 10;
    if (!app_parse_options(argc, argv, opts, true, &o->args)) return APP_EXIT_USAGE;
    if (o->args.help) {
        fputs(usage_text, stdout);
        return APP_EXIT_OK;
    }
    if (o->args.npos == 0 && !o->verify) {
        app_usage_error(app_prog_name(argv[0]), "no expression given (use EXPRESSION, '-' or --verify)");
        return APP_EXIT_USAGE;
    }
    return -1; /* go on */
}

static rk_status_t setup(rk_runtime_t *rt)
{
    rk_kernel_params_t kp;
    rk_status_t st = rk_runtime_register_type(rt, CalculateRequest_type());
    if (st == RK_OK) st = rk_runtime_register_type(rt, CalculateResponse_type());
    if (st == RK_OK && rk_runtime_rank(rt) == rk_runtime_size(rt) - 1) {
        memset(&kp, 0, sizeof kp);
        kp.kernel_id = KERNEL_ID;
        kp.fn = calculator_body;
        st = rk_kernel_start(rt, &kp);
    }
    if (st == RK_OK) st = rk_runtime_sync(rt);
    return st;
}

int main(int argc, char **argv)
{
    options_t o;
    rk_runtime_t *rt = NULL;
    rk_status_t st;
    int rc = parse(argc, argv, &o);

    if (rc >= 0) goto out_args;
    if (!app_start(&argc, &argv, &rt)) {
        rc = APP_EXIT_FAIL;
        goto out_args;
    }
    st = setup(rt);
    if (st != RK_OK) {
        fprintf(stderr, "ringmesh-calc: setup failed on rank %d: %s\n", rk_runtime_rank(rt), rk_status_str(st));
        rc = APP_EXIT_FAIL;
    } else {
        rc = rk_runtime_rank(rt) == 0 ? client(rt, &o) : APP_EXIT_OK;
    }
    if (!app_finish(rt) && rc == APP_EXIT_OK) rc = APP_EXIT_FAIL;
out_args:
    app_args_free(&o.args);
    return rc;
}
