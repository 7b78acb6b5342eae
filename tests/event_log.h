// EventLog: records the events a runtime raises (rk_runtime_on_event) for a
// test to look at. Declare it before the runtime: events are delivered until
// rk_runtime_destroy returns.
#ifndef RK_EVENT_LOG_H
#define RK_EVENT_LOG_H

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringmesh/ringmesh.h"

struct EventLog {
    std::mutex mu;
    std::vector<rk_event_t> evs; // kernel_id and reason point nowhere: see kernels, reasons
    std::vector<std::string> kernels, reasons;
    static void on(const rk_event_t *ev, void *arg)
    {
        auto *self = static_cast<EventLog *>(arg);
        std::lock_guard<std::mutex> g(self->mu);
        self->evs.push_back(*ev);
        self->evs.back().kernel_id = nullptr; // valid only during the callback
        self->evs.back().reason = nullptr;
        self->kernels.emplace_back(ev->kernel_id);
        self->reasons.emplace_back(ev->reason);
    }
    size_t count(rk_event_kind_t kind)
    {
        std::lock_guard<std::mutex> g(mu);
        return std::count_if(evs.begin(), evs.end(), [&](const rk_event_t &e) { return e.kind == kind; });
    }
    bool has_message(rk_event_kind_t kind, const rk_uuid_t &id)
    {
        std::lock_guard<std::mutex> g(mu);
        for (auto &e : evs)
            if (e.kind == kind && rk_uuid_equal(&e.message_id, &id)) return true;
        return false;
    }
    // The status of the first event of @p kind (RK_OK when none).
    rk_status_t first_status(rk_event_kind_t kind)
    {
        std::lock_guard<std::mutex> g(mu);
        for (auto &e : evs)
            if (e.kind == kind) return e.status;
        return RK_OK;
    }
    // Wait until @p n events of @p kind have arrived (they come from the event thread).
    bool wait(rk_event_kind_t kind, size_t n, int ms = 10000)
    {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (count(kind) < n && std::chrono::steady_clock::now() < end)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return count(kind) >= n;
    }
};

#endif
