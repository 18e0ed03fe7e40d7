// RAII handles for libnl objects and a netlink socket bound to a chosen network namespace.
#pragma once
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <functional>
#include <string>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orch::netns {

using orun::Error;
using orun::Fd;
using orun::Result;

using NlSock = orun::Handle<nl_sock*, nl_socket_free>;
using Link = orun::Handle<rtnl_link*, rtnl_link_put>;
using NlAddr = orun::Handle<nl_addr*, nl_addr_put>;
using Addr = orun::Handle<rtnl_addr*, rtnl_addr_put>;
using Route = orun::Handle<rtnl_route*, rtnl_route_put>;
using NlCache = orun::Handle<nl_cache*, nl_cache_free>;

// An error from a negative libnl return code, with errno mapped where libnl keeps it.
[[nodiscard]] std::unexpected<Error> nl_fail(const std::string& what, int nlerr);

// A NETLINK_ROUTE socket in the caller's network namespace.
[[nodiscard]] Result<NlSock> nl_open();
// A NETLINK_ROUTE socket in the network namespace `netns_fd`: the thread enters it only for
// the connect and returns; the socket stays bound to that namespace.
[[nodiscard]] Result<NlSock> nl_open_in(int netns_fd);

// Open a network namespace file (/var/run/netns/x, /proc/<pid>/ns/net); refuses any other file.
[[nodiscard]] Result<Fd> open_netns(const std::string& path);
// Run fn with the thread inside netns_fd, then return to the original namespace.
[[nodiscard]] Result<> in_netns(int netns_fd, const std::function<Result<>()>& fn);

}  // namespace orch::netns
