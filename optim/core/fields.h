#pragma once
// One list of named fields per options/state class drives saving, loading and
// equality, so adding an option is one line, not three.

#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace adaptive {
namespace detail {

// The string LibTorch uses as a state key: the address as `os << ptr` prints
// it ("0x" and lowercase hex). Formatted by hand: an ostringstream per
// parameter per step is a measurable share of a small-tensor step.
inline std::string pointer_key(const void* ptr) {
  auto v = reinterpret_cast<uintptr_t>(ptr);
  if (v == 0) return "0";
  char buf[2 + 2 * sizeof(uintptr_t)];
  int n = sizeof(buf);
  while (v != 0) {
    buf[--n] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  }
  buf[--n] = 'x';
  buf[--n] = '0';
  return std::string(buf + n, sizeof(buf) - n);
}

template <class C, class T>
struct Field {
  const char* name;
  T C::*member;
  bool own;  // adaptive's own: absent from checkpoints torch::optim writes
};

// A field torch::optim's class has too (same name and meaning).
template <class C, class T>
constexpr Field<C, T> field(const char* name, T C::*member) {
  return {name, member, false};
}

// A field only adaptive has: a torch::optim checkpoint lacks it.
template <class C, class T>
constexpr Field<C, T> own_field(const char* name, T C::*member) {
  return {name, member, true};
}

inline void write_value(torch::serialize::OutputArchive& archive, const char* name, const torch::Tensor& value) {
  // Same rule as LibTorch: an undefined tensor (absent state) is not written.
  if (value.defined()) {
    archive.write(name, value);
  }
}

template <class T>
void write_value(torch::serialize::OutputArchive& archive, const char* name, const T& value) {
  archive.write(name, c10::IValue(value));
}

// A key that is missing keeps the value already there. That is what lets an
// archive written by torch::optim (which lacks adaptive's extra options) load.
template <class T>
void read_value(torch::serialize::InputArchive& archive, const char* name, T& value) {
  c10::IValue ivalue;
  if (archive.try_read(name, ivalue)) {
    value = ivalue.to<T>();
  }
}

template <class C, class F>
void for_each_field(F&& f) {
  std::apply([&](const auto&... fields) { (f(fields), ...); }, C::fields());
}

// Why `archive` cannot hold a C, or "" if it can: the keys that are none of
// C's fields (another class's, e.g. another optimizer's options) and, with
// `complete`, the torch::optim fields it lacks. Key lists are sorted.
template <class C>
std::string mismatched_keys(torch::serialize::InputArchive& archive, bool complete) {
  std::vector<std::string> keys = archive.keys(), unknown, missing;
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> known;
  for_each_field<C>([&](const auto& fd) {
    known.emplace_back(fd.name);
    if (complete && !fd.own && !std::binary_search(keys.begin(), keys.end(), std::string(fd.name))) {
      missing.emplace_back(fd.name);
    }
  });
  for (const auto& key : keys) {
    if (std::find(known.begin(), known.end(), key) == known.end()) unknown.push_back(key);
  }
  if (unknown.empty() && missing.empty()) return "";
  const auto join = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text;
  };
  std::string why = "{" + join(keys) + "}";
  if (!unknown.empty()) why += "; not ours: " + join(unknown);
  std::sort(missing.begin(), missing.end());
  if (!missing.empty()) why += "; lacking: " + join(missing);
  return why;
}

template <class C>
void write_fields(const C& object, torch::serialize::OutputArchive& archive) {
  for_each_field<C>([&](const auto& fd) { write_value(archive, fd.name, object.*(fd.member)); });
}

template <class C>
void read_fields(C& object, torch::serialize::InputArchive& archive) {
  for_each_field<C>([&](const auto& fd) { read_value(archive, fd.name, object.*(fd.member)); });
}

// Every tensor field of `state` in `like`'s dtype and on its device, as
// PyTorch's load_state_dict casts state to its parameter's.
template <class State>
void cast_state_like(State& state, const torch::Tensor& like) {
  for_each_field<State>([&](const auto& fd) {
    auto& value = state.*(fd.member);
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, torch::Tensor>) {
      // The comparison is inline: step() calls this for every state it
      // reads, and a .to() per tensor would cost more than a small update.
      if (value.defined() && (value.scalar_type() != like.scalar_type() || value.device() != like.device())) {
        value = value.to(like.device(), like.scalar_type());
      }
    }
  });
}

inline bool value_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) return false;
  return !a.defined() || (a.sizes() == b.sizes() && a.dtype() == b.dtype() && torch::equal(a.cpu(), b.cpu()));
}

template <class T>
bool value_equal(const T& a, const T& b) {
  return a == b;
}

template <class C>
bool fields_equal(const C& a, const C& b) {
  bool equal = true;
  for_each_field<C>([&](const auto& fd) { equal = equal && value_equal(a.*(fd.member), b.*(fd.member)); });
  return equal;
}

}  // namespace detail
}  // namespace adaptive
