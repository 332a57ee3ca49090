#pragma once
// adaptive::make_gloo_group: a c10d process group over Gloo, the same call on
// every supported LibTorch (a ShardedOptimizer needs one; so do the examples'
// data-parallel runs). Needs LibTorch built with Gloo and compiled with
// -DUSE_C10D_GLOO; Bazel: //optim:gloo_group, which sets it.
//
//   auto store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
//   auto group = adaptive::make_gloo_group(store, rank, world, {adaptive::gloo_device("127.0.0.1")});

#include "optim/core/compat.h"

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace adaptive {

/// A Gloo network device: the interface of `hostname` ("127.0.0.1" for
/// loopback), or this host's default device when `hostname` is empty.
inline std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& hostname) {
  return hostname.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                          : c10d::ProcessGroupGloo::createDeviceForHostname(hostname);
}

/// A Gloo network device on the interface named `ifname` (GLOO_SOCKET_IFNAME).
inline std::shared_ptr<::gloo::transport::Device> gloo_interface(const std::string& ifname) {
  return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
}

/// Joins the group of `world` ranks that meet at `store`, as rank `rank`,
/// communicating over `devices`; collectives time out after `timeout`.
inline c10::intrusive_ptr<c10d::ProcessGroup> make_gloo_group(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
    std::vector<std::shared_ptr<::gloo::transport::Device>> devices,
    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices = std::move(devices);
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
#if ADAPTIVE_GLOO_IS_BACKEND
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, world);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  return group;
#else
  return gloo;
#endif
}

}  // namespace adaptive
