// `orun pause` and `orun resume`: the container's freezer (v1 freezer.state,
// else cgroup.freeze), with runc's rules on which states may change.
#include "cgroups/manager.hpp"
#include "container/container.hpp"

namespace orun::container {

Result<> pause(const Globals& g, const std::string& id) {
  Fd lock = TRY(lock_container(g.root, id));
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  // runc pauses created containers too: their init waits for start, frozen.
  if (status != Status::running && status != Status::created)
    return fail("cannot pause container \"" + id + "\": it is " + to_string(status), EINVAL);
  auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
  TRYC(cg->freeze(true), "pausing container \"" + id + "\"");
  return {};
}

Result<> resume(const Globals& g, const std::string& id) {
  Fd lock = TRY(lock_container(g.root, id));
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (status != Status::paused)
    return fail("cannot resume container \"" + id + "\": it is " + to_string(status) + ", not paused", EINVAL);
  auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
  TRYC(cg->freeze(false), "resuming container \"" + id + "\"");
  return {};
}

}  // namespace orun::container
