#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "linux/sync.hpp"

using namespace orun;
using namespace orun::linux;

TEST_CASE("sync messages carry type, value, payload and fds") {
  auto pair = make_sync_pair().value();
  REQUIRE(send_msg(pair.child.get(), Msg::InitPid, 4242).has_value());
  auto m = expect_msg(pair.parent.get(), Msg::InitPid).value();
  CHECK(m.value == 4242);
  CHECK(m.payload.empty());

  std::string big(100000, 'x');
  REQUIRE(send_msg(pair.parent.get(), Msg::HooksAck, 0, big).has_value());
  CHECK(expect_msg(pair.child.get(), Msg::HooksAck).value().payload == big);

  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(send_msg(pair.child.get(), Msg::ConsolePty, 0, {}, devnull).has_value());
  ::close(devnull);
  auto c = expect_msg(pair.parent.get(), Msg::ConsolePty).value();
  REQUIRE(c.fd.valid());
  CHECK((::fcntl(c.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("an Error message becomes the error; EOF is EPIPE; wrong type is EPROTO") {
  auto pair = make_sync_pair().value();
  REQUIRE(send_msg(pair.child.get(), Msg::Error, ENOENT, "exec: no such file").has_value());
  auto e = expect_msg(pair.parent.get(), Msg::Ready);
  REQUIRE(!e);
  CHECK(e.error().code == ENOENT);
  CHECK(e.error().message == "exec: no such file");

  REQUIRE(send_msg(pair.child.get(), Msg::HooksPls).has_value());
  CHECK(expect_msg(pair.parent.get(), Msg::Ready).error().code == EPROTO);

  pair.child.reset();
  CHECK(recv_msg(pair.parent.get()).error().code == EPIPE);
}
