// ringmesh-soak [--seconds S]: bounded-time overload of every rank at once.
// Mixed priorities (32, 128, 224) and sizes (0..4 KiB payloads) flow
// app -> sink, app -> relay -> sink (a pipeline hop on another rank) and
// rank 0 -> topic -> every subscriber, all under BLOCK with small mailboxes.
// Every stream (sender, receiver, priority) carries consecutive sequence
// numbers; receivers count gaps (a number skipped) and late arrivals (a number
// below the next expected one: a duplicate or a reorder), which must all be
// zero, every send must succeed and every message sent must arrive. The first
// offending stream on each rank is printed. Peak RSS per rank is printed and
// bounded. Exit 0 on success.
#include <mpi.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "ringmesh/ringmesh.h"

#define SOAK(F) F(Soak, seq, INT, _) F(Soak, sender, INT, _) F(Soak, payload, BYTES, _)
RK_MESSAGE_DECLARE(Soak, SOAK)
RK_MESSAGE_DEFINE(Soak, SOAK)

namespace {

const int kPrios[3] = {32, 128, 224};

struct Checker {  // per receiving kernel: next expected seq per (sender, priority)
    const char *what;
    std::mutex mu;
    std::map<std::pair<long, int>, long> next;
    std::atomic<long> got{0}, gaps{0}, late{0}, send_failed{0};
    bool told = false;
    explicit Checker(const char *w) : what(w) {}
    void see(long sender, int prio, long seq, int src_rank)
    {
        std::lock_guard<std::mutex> g(mu);
        long &want = next[{sender, prio}];
        if (seq != want) {
            (seq > want ? gaps : late)++;
            if (!told) { /* the first offence, with its stream, for the log */
                told = true;
                fprintf(stderr, "[soak] %s: stream (sender %ld, priority %d) via rank %d: got seq %ld, expected %ld (%s)\n",
                        what, sender, prio, src_rank, seq, want, seq > want ? "gap" : "late: duplicate or reorder");
            }
        }
        if (seq >= want) want = seq + 1;
        got++;
    }
};

struct Relay {
    Checker in{"relay"};
    std::string next;
    long id;
    std::map<int, long> seq;  // per priority
};

Checker sink_check("sink"), sub_check("subscriber");
Relay relay;

void sink(rk_ctx_t *ctx, void *arg)
{
    auto *c = static_cast<Checker *>(arg);
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 50000, &m) != RK_OK) continue;
        auto *s = reinterpret_cast<Soak *>(m);
        c->see(s->sender, m->priority, s->seq, m->src_rank);
        rk_msg_free(m);
    }
}

void relay_body(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 50000, &m) != RK_OK) continue;
        auto *s = reinterpret_cast<Soak *>(m);
        relay.in.see(s->sender, m->priority, s->seq, m->src_rank);
        s->sender = relay.id;  // the relay is the sender of the next hop
        s->seq = relay.seq[m->priority]++;
        rk_status_t st = rk_ctx_send_to(ctx, relay.next.c_str(), m);
        if (st != RK_OK) {
            relay.in.send_failed++;
            fprintf(stderr, "[soak] relay: send to %s failed: %s\n", relay.next.c_str(), rk_status_str(st));
        }
        rk_msg_free(m);
    }
}

Soak *make(std::mt19937 &rng, long sender, long seq, int prio)
{
    rk_msg_t *m = nullptr;
    static thread_local std::vector<uint8_t> bytes(4096, 0xab);
    size_t n = rng() % 4096;
    if (rk_msg_create(Soak_type(), n + 16, &m) != RK_OK) abort();
    auto *s = reinterpret_cast<Soak *>(m);
    RK_SET_BYTES(&s, Soak, payload, bytes.data(), n);
    s->seq = seq;
    s->sender = sender;
    rk_msg_set_priority(&s->hdr, prio);
    return s;
}

long allsum(long v)
{
    long out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    int provided, rank, size;
    double seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--help")) {
            puts("Usage: mpirun -n N ringmesh-soak [--seconds S]  (bounded overload with sequence checks)");
            return 0;
        } else {
            fprintf(stderr, "ringmesh-soak: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    rk_runtime_params_t p{};
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT | RK_RUNTIME_FIELD_CREDITS;
    p.transport = RK_TRANSPORT_AUTO;
    p.credits = 16;
    rk_runtime_t *rt = nullptr;
    if (rk_runtime_create(&p, &rt) != RK_OK) return 3;
    rk_runtime_register_type(rt, Soak_type());
    rank = rk_runtime_rank(rt);
    size = rk_runtime_size(rt);
    std::string me = std::to_string(rank);
    std::string sink_id = "sink@" + me, relay_id = "relay@" + me, sub_id = "sub@" + me;
    relay.next = "sink@" + std::to_string((rank + 1) % size);
    relay.id = 1000 + rank;
    rk_kernel_params_t kp{};
    kp.field_mask = RK_KERNEL_FIELD_ARG | RK_KERNEL_FIELD_CAPACITY;
    kp.capacity = 32;
    kp.kernel_id = sink_id.c_str(), kp.fn = sink, kp.arg = &sink_check;
    rk_kernel_start(rt, &kp);
    kp.kernel_id = relay_id.c_str(), kp.fn = relay_body, kp.arg = nullptr;
    rk_kernel_start(rt, &kp);
    kp.kernel_id = sub_id.c_str(), kp.fn = sink, kp.arg = &sub_check;
    rk_kernel_start(rt, &kp);
    rk_subscribe(rt, "soak", sub_id.c_str());
    if (rk_runtime_sync(rt) != RK_OK) return 4;

    std::mt19937 rng(1234 + rank);
    std::map<std::pair<std::string, int>, long> seq;  // (kernel, prio) -> next
    long sent_sink = 0, sent_relay = 0, published = 0, failed = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto next_note = t0 + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(seconds)) {
        int prio = kPrios[rng() % 3];
        int dest = (int)(rng() % size);
        bool via_relay = rng() % 3 == 0;
        std::string k = (via_relay ? "relay@" : "sink@") + std::to_string(dest);
        Soak *s = make(rng, rank, seq[{k, prio}]++, prio);
        rk_status_t st = rk_send(rt, k.c_str(), &s->hdr);
        if (st != RK_OK && failed++ == 0) fprintf(stderr, "[soak %d] send to %s failed: %s\n", rank, k.c_str(), rk_status_str(st));
        (via_relay ? sent_relay : sent_sink)++;
        rk_msg_free(&s->hdr);
        if (rank == 0 && rng() % 8 == 0) {
            Soak *e = make(rng, -1, seq[{"topic", prio}]++, prio);
            rk_status_t pst = rk_publish(rt, "soak", &e->hdr);
            if (pst != RK_OK && failed++ == 0) fprintf(stderr, "[soak %d] publish failed: %s\n", rank, rk_status_str(pst));
            published++;
            rk_msg_free(&e->hdr);
        }
        if (std::chrono::steady_clock::now() > next_note) {
            fprintf(stderr, "[soak %d] %.0f s: sent %ld, received %ld\n", rank,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                    sent_sink + sent_relay, sink_check.got.load());
            next_note += std::chrono::seconds(2);
        }
    }
    // Wait (collectively) until everything sent has arrived.
    long want_sink = allsum(sent_sink + sent_relay), want_sub = allsum(published) * size, have = 0, have_sub = 0;
    for (int i = 0; i < 6000; i++) {
        have = allsum(sink_check.got.load());
        have_sub = allsum(sub_check.got.load());
        if (have >= want_sink && have_sub >= want_sub) break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, nullptr);
    }
    long gaps = allsum(sink_check.gaps + relay.in.gaps + sub_check.gaps);
    long late = allsum(sink_check.late + relay.in.late + sub_check.late);
    long send_failed = allsum(relay.in.send_failed + failed);
    long bad = gaps + late + send_failed;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_kib = ru.ru_maxrss, max_peak = 0;
    MPI_Allreduce(&peak_kib, &max_peak, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    bool ok = have == want_sink && have_sub == want_sub && bad == 0 && max_peak < 256 * 1024;
    if (rank == 0)
        printf("soak: %d ranks, %.0f s: %ld messages to sinks (%ld arrived), %ld publications x %d subscribers "
               "(%ld arrived), gaps %ld, late (duplicates or reorders) %ld, failed sends %ld, peak RSS max %ld KiB: %s\n",
               size, seconds, want_sink, have, want_sub / (size ? size : 1), size, have_sub, gaps, late, send_failed, max_peak,
               ok ? "SOAK OK" : "SOAK FAILED");
    rk_status_t st = rk_runtime_destroy(rt);
    MPI_Finalize();
    return ok && st == RK_OK ? 0 : 1;
}
