#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "container/state.hpp"

using namespace orun;
using namespace orun::container;

namespace {
struct TempRoot {
  std::string path;
  TempRoot() {
    char t[] = "/tmp/orun-state-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempRoot() { (void)remove_tree(path); }
};

State sample(const std::string& id) {
  State st;
  st.id = id;
  st.oci_version = "1.2.0";
  st.pid = ::getpid();
  st.pid_start_time = process_start_time(st.pid);
  st.bundle = "/b";
  st.rootfs = "/b/rootfs";
  st.created = now_rfc3339();
  st.recorded = "created";
  st.annotations = {{"a", "b"}};
  st.cgroup_paths = {{"memory", "/sys/fs/cgroup/memory/x"}};
  return st;
}
}  // namespace

TEST_CASE("container ids follow runc's rule") {
  CHECK(check_id("abc-1.2_3+x"));
  CHECK(!check_id(""));
  CHECK(!check_id("."));
  CHECK(!check_id(".."));
  CHECK(!check_id("a/b"));
  CHECK(!check_id("../x"));
  CHECK(!check_id("a b"));
  CHECK(check_id("a/b").error().message.find("a/b") != std::string::npos);
}

TEST_CASE("state round-trips and status follows the process") {
  TempRoot root;
  State st = sample("c1");
  REQUIRE(mkdir_p(state_dir(root.path, "c1")));
  REQUIRE(save_state(root.path, st));
  State back = load_state(root.path, "c1").value();
  CHECK(back.pid == st.pid);
  CHECK(back.pid_start_time == st.pid_start_time);
  CHECK(back.annotations == st.annotations);
  CHECK(back.cgroup_paths == st.cgroup_paths);
  CHECK(back.recorded == "created");
  CHECK(back.needs_config);
  st.needs_config = false;
  REQUIRE(save_state(root.path, st));
  CHECK_FALSE(load_state(root.path, "c1").value().needs_config);
  // A record by an older orun has no needsConfig: start and delete read config.json.
  REQUIRE(write_file(state_dir(root.path, "c1") + "/state.json", R"({"pid":1,"status":"created"})"));
  CHECK(load_state(root.path, "c1").value().needs_config);
  REQUIRE(save_state(root.path, back));

  // Alive, no start socket: running; with it: created.
  CHECK(current_status(root.path, back) == Status::running);
  REQUIRE(write_file(state_dir(root.path, "c1") + "/start.sock", ""));
  CHECK(current_status(root.path, back) == Status::created);

  // A reused pid (other start time) is not our container.
  back.pid_start_time += 1;
  CHECK(current_status(root.path, back) == Status::stopped);

  // A zombie counts as stopped.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::usleep(50000);
  back.pid = child;
  back.pid_start_time = 0;
  CHECK(current_status(root.path, back) == Status::stopped);
  ::waitpid(child, nullptr, 0);
}

TEST_CASE("a creating record is stopped once its creator is gone") {
  TempRoot root;
  State st = sample("c2");
  st.recorded = "creating";
  st.creator_pid = ::getpid();
  st.creator_start_time = process_start_time(st.creator_pid);
  CHECK(current_status(root.path, st) == Status::creating);
  st.creator_start_time += 1;
  CHECK(current_status(root.path, st) == Status::stopped);
}

TEST_CASE("unknown and corrupt records") {
  TempRoot root;
  CHECK(load_state(root.path, "nope").error().code == ENOENT);
  REQUIRE(mkdir_p(state_dir(root.path, "bad")));
  REQUIRE(write_file(state_dir(root.path, "bad") + "/state.json", "{not json"));
  CHECK(load_state(root.path, "bad").error().message.find("corrupt") != std::string::npos);
  CHECK(lock_container(root.path, "nope").error().code == ENOENT);
  CHECK(lock_container(root.path, "bad"));
}

TEST_CASE("state.json: unknown keys, nested values and wrong types are passed over") {
  TempRoot root;
  REQUIRE(mkdir_p(state_dir(root.path, "o")));
  REQUIRE(write_file(state_dir(root.path, "o") + "/state.json", R"({
    "future": {"pid": 7, "bundle": "/no", "list": [1, {"rootfs": "/no"}]},
    "pid": 42, "pidStartTime": 18446744073709551615, "creatorPid": "x", "bundle": ["/no"],
    "annotations": {"a": "b", "n": 1, "deep": {"c": "d"}, "arr": ["e"], "f": "g"},
    "cgroupPaths": {"": "/sys/fs/cgroup/o"}, "rootfs": "/r", "status": "created",
    "systemdCgroup": true, "needsConfig": false, "id": "other"
  })"));
  State st = load_state(root.path, "o").value();
  CHECK(st.id == "o");
  CHECK(st.pid == 42);
  CHECK(st.pid_start_time == UINT64_MAX);
  CHECK(st.creator_pid == 0);
  CHECK(st.bundle.empty());
  CHECK(st.rootfs == "/r");
  CHECK(st.recorded == "created");
  CHECK(st.annotations == std::map<std::string, std::string>{{"a", "b"}, {"f", "g"}});
  CHECK(st.cgroup_paths == std::map<std::string, std::string>{{"", "/sys/fs/cgroup/o"}});
  CHECK(st.systemd_cgroup);
  CHECK_FALSE(st.needs_config);

  // Not an object, or not JSON to the end: corrupt.
  for (const char* bad : {"[1]", "\"x\"", "3", "{\"pid\": 1} x", "{\"pid\": 1", ""}) {
    REQUIRE(write_file(state_dir(root.path, "o") + "/state.json", bad));
    auto r = load_state(root.path, "o");
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK(r.error().code == EIO);
  }
  // An empty object is a record still being created.
  REQUIRE(write_file(state_dir(root.path, "o") + "/state.json", "{}"));
  CHECK(load_state(root.path, "o").value().recorded == "creating");
}

TEST_CASE("the OCI state document") {
  State st = sample("c3");
  auto j = nlohmann::json::parse(oci_state_json(st, Status::running));
  CHECK(j["id"] == "c3");
  CHECK(j["status"] == "running");
  CHECK(j["pid"] == st.pid);
  CHECK(j["bundle"] == "/b");
  CHECK(j["annotations"]["a"] == "b");
  CHECK(j["ociVersion"] == "1.2.0");
  auto stopped = nlohmann::json::parse(oci_state_json(st, Status::stopped));
  CHECK(stopped["pid"] == 0);
}

TEST_CASE("state.json: any string round-trips") {
  TempRoot root;
  State st = sample("c4");
  st.bundle = "/b \"quoted\" \\ back\nnew\tline \x01 é 😀";
  st.annotations = {{"k\"ey\n", "v\\al\x1f"}, {"ü", ""}};
  st.cgroups_path = "system.slice:orun:c4";
  st.systemd_cgroup = true;
  st.systemd_unit = "orun-c4.scope";
  st.creator_pid = 1;
  st.creator_start_time = 9;
  REQUIRE(mkdir_p(state_dir(root.path, "c4")));
  REQUIRE(save_state(root.path, st));
  State back = load_state(root.path, "c4").value();
  CHECK(back.bundle == st.bundle);
  CHECK(back.annotations == st.annotations);
  CHECK(back.cgroups_path == st.cgroups_path);
  CHECK(back.systemd_cgroup);
  CHECK(back.systemd_unit == st.systemd_unit);
  CHECK(back.creator_pid == 1);
  CHECK(back.creator_start_time == 9);
  CHECK(back.created == st.created);
  CHECK(back.oci_version == "1.2.0");
  // nlohmann reads it too: valid JSON.
  auto j = nlohmann::json::parse(read_file(state_dir(root.path, "c4") + "/state.json").value());
  CHECK(j["bundle"] == st.bundle);
}

TEST_CASE("the OCI state document, as `orun state` prints it") {
  State st = sample("c5");
  st.pid = 42;
  st.created = "2026-11-29T05:00:00.000000001Z";
  CHECK(oci_state_json(st, Status::running) == R"({
  "ociVersion": "1.2.0",
  "id": "c5",
  "pid": 42,
  "status": "running",
  "bundle": "/b",
  "rootfs": "/b/rootfs",
  "created": "2026-11-29T05:00:00.000000001Z",
  "annotations": {
    "a": "b"
  },
  "owner": ""
})");
  st.annotations.clear();
  CHECK(oci_state_json(st, Status::stopped).find("\"pid\": 0,\n  \"status\": \"stopped\",") != std::string::npos);
  CHECK(oci_state_json(st, Status::stopped).find("annotations") == std::string::npos);
}
