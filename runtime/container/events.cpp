// `orun events`: runc's event stream. One {"type":"stats"} line every
// interval and one {"type":"oom"} line per OOM in the container's memory
// cgroup, until the container's init exits (a pidfd says when).
//
//   poll: OomWatch fd -> "oom" lines   timerfd -> "stats" line   pidfd -> last OOMs, end
#include <poll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cgroups/oom.hpp"
#include "cgroups/stats.hpp"
#include "container/container.hpp"
#include "spec/parse.hpp"

namespace orun::container {
namespace {

std::string event_line(const char* type, const std::string& id, const std::string& data_json) {
  std::string line = std::string("{\"type\":\"") + type + "\",\"id\":" + spec::quote(id);
  if (!data_json.empty()) line += ",\"data\":" + data_json;
  return line + "}";
}

Result<std::string> stats_line(const State& st) {
  auto stats = TRYC(cgroups::read_stats(st.cgroup_paths), "reading the container's statistics");
  return event_line("stats", st.id, cgroups::stats_json(stats));
}

}  // namespace

Result<> events(const Globals& g, const std::string& id, const EventsOptions& opt,
                const std::function<void(const std::string&)>& emit) {
  if (opt.interval.count() <= 0) return fail("--interval must be greater than 0");
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (status == Status::stopped || status == Status::creating)
    return fail("cannot show events of container \"" + id + "\": it is " + to_string(status), EINVAL);
  if (opt.stats_once) {
    emit(TRY(stats_line(st)));
    return {};
  }

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
  if (pidfd < 0) return sys_error("pidfd_open " + std::to_string(st.pid));
  Fd init(pidfd);
  // The pid may have been reused between the status check and the open.
  if (!process_alive(st.pid, st.pid_start_time)) return {};

  // Without a memory controller there are no OOM events, but stats still flow.
  auto oom = cgroups::OomWatch::open(st.cgroup_paths);
  if (!oom && oom.error().code != ENOTSUP) return std::unexpected(oom.error());

  Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer) return sys_error("timerfd_create");
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(opt.interval);
  struct itimerspec its{};
  its.it_interval.tv_sec = secs.count();
  its.it_interval.tv_nsec = (opt.interval - secs).count();
  its.it_value = its.it_interval;
  if (::timerfd_settime(timer.get(), 0, &its, nullptr) < 0) return sys_error("timerfd_settime");

  auto report_ooms = [&]() -> Result<> {
    if (!oom) return {};
    uint64_t n = TRY(oom->consume());
    for (uint64_t i = 0; i < n; ++i) emit(event_line("oom", id, ""));
    return {};
  };
  for (;;) {
    struct pollfd fds[3] = {{init.get(), POLLIN, 0}, {timer.get(), POLLIN, 0}, {oom ? oom->fd() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    // OOMs first: the kill that ends the init is reported before the stream ends.
    if (fds[2].revents) TRY(report_ooms());
    if (fds[0].revents) return report_ooms();
    if (fds[1].revents) {
      uint64_t ticks;
      (void)!::read(timer.get(), &ticks, sizeof ticks);
      auto line = stats_line(st);
      // The cgroup can go between the tick and the read when the container stops.
      if (!line) {
        if (!process_alive(st.pid, st.pid_start_time)) return report_ooms();
        return std::unexpected(line.error());
      }
      emit(*line);
    }
  }
}

}  // namespace orun::container
