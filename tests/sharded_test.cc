// ShardedOptimizer (ZeRO stage 1): ranks are threads here, each with its own
// Gloo process group over loopback (a shared in-memory store), so the test
// runs the real collectives in one bounded process. Every rank feeds the
// same gradients (as after an allreduce); the sharded step must then equal
// the unsharded optimizer's step bit for bit: each parameter is updated by
// the same rule on its owner, and the clipping norm is the whole model's,
// reduced in the same order. Also: state memory per rank, empty shards,
// save/load per rank, schedulers, refusals.

#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include "optim/optim.h"
#include "optim/gloo_group.h"
#include "optim/sharded.h"

#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/serialize.h>
#include <torch/optim/schedulers/step_lr.h>
#include <torch/types.h>

#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <thread>

namespace {

using Group = c10::intrusive_ptr<c10d::ProcessGroup>;

// Runs body(rank, group) on `world` threads with one Gloo group each; rethrows
// the first exception of any rank.
void run_ranks(int world, const std::function<void(int, Group)>& body) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::thread> threads;
  std::exception_ptr error;
  std::mutex mutex;
  for (int rank = 0; rank < world; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        Group group = adaptive::make_gloo_group(store, rank, world, {adaptive::gloo_device("127.0.0.1")});
        body(rank, group);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

// The message of the c10::Error f() throws, or "" (no error).
std::string sharded_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

// A model of tensors of uneven sizes (so shards are uneven too), the same on every rank.
std::vector<torch::Tensor> make_params(torch::Dtype dtype = torch::kFloat32) {
  std::vector<torch::Tensor> params;
  const std::vector<std::vector<int64_t>> shapes = {{300, 20}, {20}, {20, 50}, {50}, {7}, {1}, {3, 3, 3}, {1000}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(100 + i);
    params.push_back(at::randn(shapes[i], gen, torch::TensorOptions().dtype(dtype)).requires_grad_());
  }
  return params;
}

// Step k's gradient of every parameter: deterministic, identical on every rank.
void set_grads(const std::vector<torch::Tensor>& params, int step, bool poison = false) {
  for (size_t i = 0; i < params.size(); ++i) {
    auto g = torch::sin(params[i].detach() * (step + 1) + static_cast<double>(i)) * (1.0 + step % 3);
    if (poison && i == 4) g.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
    params[i].mutable_grad() = g;
  }
}

std::vector<torch::optim::OptimizerParamGroup> two_groups(const std::vector<torch::Tensor>& params,
                                                          std::unique_ptr<torch::optim::OptimizerOptions> second) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>(params.begin(), params.begin() + 4));
  groups.emplace_back(std::vector<torch::Tensor>(params.begin() + 4, params.end()), std::move(second));
  return groups;
}

// Trains `steps` steps sharded on `world` ranks and unsharded, and checks
// that every rank ends with the unsharded parameters, bit for bit.
template <class Opt>
void expect_equal_to_unsharded(int world, const typename Opt::Options& options, bool two, int steps = 12,
                               int poison_step = -1) {
  auto reference = make_params();
  auto second = [&] {  // the second group: the same options at half the learning rate
    auto o = std::make_unique<typename Opt::Options>(options);
    o->lr(o->lr() * 0.5);
    return o;
  };
  std::unique_ptr<Opt> unsharded =
      two ? std::make_unique<Opt>(two_groups(reference, second()), options) : std::make_unique<Opt>(reference, options);
  std::vector<double> norms;
  for (int s = 0; s < steps; ++s) {
    set_grads(reference, s, s == poison_step);
    unsharded->step();
    norms.push_back(unsharded->last_grad_norm().value_or(-1));
  }
  run_ranks(world, [&](int rank, Group group) {
    auto params = make_params();
    adaptive::ShardedOptimizer<Opt> sharded =
        two ? adaptive::ShardedOptimizer<Opt>(two_groups(params, second()), options, group)
            : adaptive::ShardedOptimizer<Opt>(params, options, group);
    for (int s = 0; s < steps; ++s) {
      set_grads(params, s, s == poison_step);
      sharded.step();
      const double norm = sharded.last_grad_norm().value_or(-1);  // NaN on a skipped step: equal as NaN
      EXPECT_TRUE(norm == norms[s] || (std::isnan(norm) && std::isnan(norms[s])))
          << "rank " << rank << " step " << s << ": " << norm << " vs " << norms[s];
    }
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::equal(params[i], reference[i])) << "rank " << rank << " parameter " << i << " max diff "
                                                         << (params[i] - reference[i]).abs().max().item<double>();
    }
    EXPECT_EQ(sharded.skipped_steps(), unsharded->skipped_steps());
  });
}

TEST(Sharded, AdamEqualsUnshardedBitForBit) {
  for (int world : {1, 2, 3}) {
    expect_equal_to_unsharded<adaptive::Adam>(world, adaptive::AdamOptions(0.01).amsgrad(true), false);
    expect_equal_to_unsharded<adaptive::Adam>(
        world, adaptive::AdamOptions(0.01).weight_decay(0.1).decoupled_weight_decay(true).clip_grad_norm(0.5), true);
  }
}

TEST(Sharded, RMSpropEqualsUnshardedBitForBit) {
  for (int world : {2, 3}) {
    expect_equal_to_unsharded<adaptive::RMSprop>(world, adaptive::RMSpropOptions(0.01).centered(true).momentum(0.9),
                                                 false);
    expect_equal_to_unsharded<adaptive::RMSprop>(
        world, adaptive::RMSpropOptions(0.01).clip_grad_value(0.3).clip_grad_norm(1.0).fused(false), true);
  }
}

TEST(Sharded, AdagradEqualsUnshardedBitForBit) {
  for (int world : {2, 3}) {
    expect_equal_to_unsharded<adaptive::Adagrad>(world, adaptive::AdagradOptions(0.1).lr_decay(0.01), false);
    expect_equal_to_unsharded<adaptive::Adagrad>(world, adaptive::AdagradOptions(0.1).clip_grad_norm(0.1), true);
  }
}

// Every elementwise optimizer of optim/optimizers.h, sharded: defaults with
// norm clipping, two groups, 3 ranks (the three above also with their own
// options). Whole-tensor math (Adafactor, Muon) and sparse gradients only
// (SparseAdam) are refused, on every rank alike.
TEST(Sharded, EveryOptimizerEqualsUnshardedBitForBit) {
  adaptive_test::for_each_optimizer([](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    if constexpr (adaptive::hooks::steps_whole_tensors<Opt>() || adaptive::hooks::takes_only_sparse_gradients<Opt>()) {
      run_ranks(2, [&](int rank, Group group) {
        auto params = make_params();
        const std::string error = adaptive_test::error_of([&] { adaptive::ShardedOptimizer<Opt>(params, typename Opt::Options(), group); });
        EXPECT_NE(error.find(std::string("adaptive::ShardedOptimizer: ") + Opt::kName + " cannot be sharded"),
                  std::string::npos)
            << "rank " << rank << ": " << error;
      });
    } else {
      expect_equal_to_unsharded<Opt>(3, typename Opt::Options().clip_grad_norm(0.5), true);
    }
  });
}

// A NaN in one shard skips the whole group on every rank, as unsharded.
TEST(Sharded, SkipNonfiniteSkipsTheGroupOnEveryRank) {
  expect_equal_to_unsharded<adaptive::Adam>(
      2, adaptive::AdamOptions(0.01).skip_nonfinite(true).clip_grad_norm(1.0), true, 8, /*poison_step=*/3);
}

// One tensor holds 74% of this model's elements; it is split, so every rank
// holds 1/N of the state (to an element), which whole-tensor sharding could not.
TEST(Sharded, StateMemoryPerRankIsOneNth) {
  int64_t elements = 0;
  for (const auto& p : make_params()) elements += p.numel();
  const int64_t total = 2 * elements * 4;  // Adam: exp_avg and exp_avg_sq, float32
  for (int world : {2, 3, 4}) {
    std::vector<int64_t> bytes(world);
    run_ranks(world, [&](int rank, Group group) {
      auto params = make_params();
      adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, adaptive::AdamOptions(0.01), group);
      set_grads(params, 0);
      sharded.step();
      bytes[rank] = sharded.local_state_bytes();
    });
    int64_t sum = 0;
    for (int r = 0; r < world; ++r) {
      sum += bytes[r];
      EXPECT_LE(std::abs(bytes[r] - total / world), 8) << "world " << world << " rank " << r;  // ±1 element
      std::printf("world %d rank %d: %lld of %lld state bytes (%.2f%%)\n", world, r, static_cast<long long>(bytes[r]),
                  static_cast<long long>(total), 100.0 * bytes[r] / total);
    }
    EXPECT_EQ(sum, total);  // nothing duplicated, nothing missing
  }
}

// Fewer elements than ranks: some ranks own nothing and still take part.
TEST(Sharded, MoreRanksThanElementsLeavesSomeShardsEmpty) {
  auto make = [] { return std::vector<torch::Tensor>{torch::full({1}, 0.5).requires_grad_(), torch::ones({1}).requires_grad_()}; };
  auto reference = make();
  adaptive::RMSprop unsharded(reference, adaptive::RMSpropOptions(0.1));
  for (int s = 0; s < 3; ++s) {
    set_grads(reference, s);
    unsharded.step();
  }
  run_ranks(3, [&](int rank, Group group) {
    auto params = make();
    adaptive::ShardedOptimizer<adaptive::RMSprop> sharded(params, adaptive::RMSpropOptions(0.1), group);
    EXPECT_EQ(sharded.shard_optimizer() == nullptr, rank == 2);
    for (int s = 0; s < 3; ++s) {
      set_grads(params, s);
      sharded.step();
    }
    for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], reference[i])) << rank;
  });
}

// A parameter that is not contiguous (here: transposed) is kept whole.
TEST(Sharded, NonContiguousParametersAreNotSplit) {
  auto make = [] {
    return std::vector<torch::Tensor>{torch::linspace(-1, 1, 600).view({20, 30}).t().requires_grad_(),
                                      torch::linspace(0, 1, 10).requires_grad_()};
  };
  auto reference = make();
  adaptive::Adam unsharded(reference, adaptive::AdamOptions(0.1));
  for (int s = 0; s < 4; ++s) {
    set_grads(reference, s);
    unsharded.step();
  }
  run_ranks(2, [&](int, Group group) {
    auto params = make();
    adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, adaptive::AdamOptions(0.1), group);
    int64_t pieces_of_first = 0;
    for (const auto& piece : sharded.pieces()) pieces_of_first += piece.param == 0;
    EXPECT_EQ(pieces_of_first, 1);
    for (int s = 0; s < 4; ++s) {
      set_grads(params, s);
      sharded.step();
    }
    for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], reference[i]));
  });
}

TEST(Sharded, EachRankSavesAndLoadsItsShardAndResumesExactly) {
  auto reference = make_params();
  adaptive::Adam unsharded(reference, adaptive::AdamOptions(0.01).amsgrad(true));
  torch::optim::StepLR unsharded_lr(unsharded, 4, 0.5);
  for (int s = 0; s < 16; ++s) {
    set_grads(reference, s);
    unsharded.step();
    unsharded_lr.step();
  }
  run_ranks(2, [&](int rank, Group group) {
    const std::string path = adaptive_test::temp_path("shard" + std::to_string(rank));
    auto params = make_params();
    double saved_lr = 0;
    {
      adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, adaptive::AdamOptions(0.01).amsgrad(true), group);
      torch::optim::StepLR lr(sharded, 4, 0.5);
      for (int s = 0; s < 8; ++s) {
        set_grads(params, s);
        sharded.step();
        lr.step();
      }
      torch::save(sharded, path);
      saved_lr = sharded.param_groups()[0].options().get_lr();
    }
    // A fresh optimizer with the default lr: load restores the scheduled one.
    adaptive::ShardedOptimizer<adaptive::Adam> resumed(params, adaptive::AdamOptions(0.01).amsgrad(true), group);
    torch::load(resumed, path);
    EXPECT_NE(saved_lr, 0.01);
    EXPECT_EQ(resumed.param_groups()[0].options().get_lr(), saved_lr);
    torch::optim::StepLR lr(resumed, 4, 0.5);
    for (int s = 0; s < 8; ++s) lr.step();  // the scheduler's own count, replayed
    resumed.param_groups()[0].options().set_lr(saved_lr);
    for (int s = 8; s < 16; ++s) {
      set_grads(params, s);
      resumed.step();
      lr.step();
    }
    for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], reference[i])) << rank << " " << i;

    // The other rank's file: refused, nothing changed.
    const std::string other = adaptive_test::temp_path("shard" + std::to_string(1 - rank));
    try {
      torch::load(resumed, other);
      ADD_FAILURE() << "loaded another rank's shard";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find("holds the shard of rank " + std::to_string(1 - rank)), std::string::npos);
    }
  });
}

TEST(Sharded, BadInputIsRefusedOnEveryRank) {
  run_ranks(2, [&](int, Group group) {
    EXPECT_THROW(adaptive::ShardedOptimizer<adaptive::Adam>(std::vector<torch::Tensor>{}, {}, group), c10::Error);
    EXPECT_THROW(adaptive::ShardedOptimizer<adaptive::Adam>(make_params(), adaptive::AdamOptions(-1), group),
                 c10::Error);
    auto params = make_params();
    adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, {}, group);
    set_grads(params, 0);
    params[5].mutable_grad() = torch::ones({2});  // wrong shape, in one rank's shard only
    // Every rank refuses (the check covers the whole model), so none waits in the broadcast.
    EXPECT_THROW(sharded.step(), c10::Error);
    // Groups added later are not in the partition: refused at the next step.
    sharded.add_param_group(torch::optim::OptimizerParamGroup({torch::ones({3}, torch::requires_grad())}));
    set_grads(params, 0);
    EXPECT_NE(sharded_error([&] { sharded.step(); }).find("the optimizer has 2 parameter groups, not 1"),
              std::string::npos);
  });
}

// Adagrad takes sparse gradients unsharded; a piece of one is not a view of
// it, so the sharded optimizer refuses them, on every rank, before any change.
TEST(Sharded, SparseGradientsAreRefused) {
  run_ranks(2, [&](int, Group group) {
    auto params = make_params();
    adaptive::ShardedOptimizer<adaptive::Adagrad> sharded(params, {}, group);
    set_grads(params, 0);
    const auto before = params[0].detach().clone();
    params[0].mutable_grad() = params[0].grad().to_sparse();
    try {
      sharded.step();
      ADD_FAILURE() << "a sparse gradient was accepted";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what_without_backtrace()).find("does not support sparse gradients (parameter 0 of group 0)"),
                std::string::npos)
          << e.what_without_backtrace();
    }
    EXPECT_TRUE(torch::equal(params[0], before));
  });
}

// The same tensor twice would be two pieces stepped twice (a result that
// depends on the world size): refused as the unsharded optimizers refuse it.
// torch::optim's options in a group are refused, not reinterpreted.
TEST(Sharded, DuplicatesAndForeignOptionsAreRefused) {
  run_ranks(2, [&](int, Group group) {
    auto params = make_params();
    std::vector<torch::Tensor> twice = {params[0], params[1], params[0]};
    try {
      adaptive::ShardedOptimizer<adaptive::Adam>(twice, {}, group);
      ADD_FAILURE() << "a duplicate parameter was accepted";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what_without_backtrace()).find("appears more than once"), std::string::npos)
          << e.what_without_backtrace();
    }
    try {
      adaptive::ShardedOptimizer<adaptive::Adam>(two_groups(params, std::make_unique<torch::optim::AdamOptions>(0.1)),
                                                 {}, group);
      ADD_FAILURE() << "torch::optim's options were accepted";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what_without_backtrace())
                    .find("group 1 has options of type torch::optim::AdamOptions, expected adaptive::AdamOptions"),
                std::string::npos)
          << e.what_without_backtrace();
    }
  });
}

// Weights loaded after the optimizer was built (torch::load(model, ...): the
// same tensors get new storage) and a model moved to float64 after it was
// built: the sharded optimizer steps the model's parameters as they are now,
// exactly as an unsharded optimizer built after the change. It used to step
// the old storage (the model never moved) or fail with a dtype mismatch.
TEST(Sharded, FollowsWeightsLoadedAndDtypeChangedAfterConstruction) {
  const adaptive::AdamOptions options = adaptive::AdamOptions(1e-2).clip_grad_norm(1);
  const auto loaded = make_params(torch::kFloat64);  // "the checkpoint's weights"
  auto reference = make_params(torch::kFloat64);
  for (size_t i = 0; i < reference.size(); ++i) reference[i].detach().copy_(loaded[i]);
  adaptive::Adam unsharded(reference, options);
  for (int s = 0; s < 4; ++s) {
    set_grads(reference, s);
    unsharded.step();
  }
  for (const int world : {1, 2}) {
    run_ranks(world, [&](int rank, Group group) {
      auto params = make_params();  // float32, random init
      adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, options, group);
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i) {
          params[i].set_data(params[i].to(torch::kFloat64));  // module->to(kFloat64)
          params[i].set_(loaded[i].clone());                  // torch::load(module, ...)
        }
      }
      for (int s = 0; s < 4; ++s) {
        set_grads(params, s);
        sharded.step();
      }
      for (size_t i = 0; i < params.size(); ++i) {
        EXPECT_EQ(params[i].scalar_type(), torch::kFloat64);
        EXPECT_TRUE(torch::equal(params[i], reference[i]))
            << "world " << world << " rank " << rank << " parameter " << i;
      }
      // After steps too: the state follows, cast to the parameters' new dtype.
      {
        torch::NoGradGuard no_grad;
        for (auto& p : params) p.set_data(p.to(torch::kFloat32));
      }
      const auto before = params[0].detach().clone();
      set_grads(params, 4);
      sharded.step();
      EXPECT_FALSE(torch::equal(params[0], before)) << "the model did not move";
      if (auto* shard = sharded.shard_optimizer()) {
        for (const auto& entry : shard->state()) {
          const auto& s = static_cast<const adaptive::AdamParamState&>(*entry.second);
          EXPECT_EQ(s.exp_avg().scalar_type(), torch::kFloat32);
          EXPECT_EQ(s.step(), 5);
        }
      }
    });
  }
}

// The partition covers the parameters given at construction. A parameter
// appended, removed or replaced since (through param_groups()) used to be
// never trained, stepped with another's gradient, or read past the end of a
// vector: refused on every rank before anything changes.
TEST(Sharded, EditedParameterListsAreRefusedOnEveryRank) {
  using Edit = std::function<void(std::vector<torch::Tensor>&)>;
  const std::vector<std::pair<Edit, std::string>> edits = {
      {[](auto& list) { list.push_back(torch::ones({3}, torch::requires_grad())); },
       "group 0 has 9 parameters, not 8, since construction"},
      {[](auto& list) { list.pop_back(); }, "group 0 has 7 parameters, not 8, since construction"},
      {[](auto& list) { list[2] = torch::zeros({20, 50}, torch::requires_grad()); },
       "parameter 2 of group 0 was replaced by another tensor since construction"}};
  for (const auto& [edit, expected] : edits) {
    run_ranks(2, [&](int, Group group) {
      auto params = make_params();
      adaptive::ShardedOptimizer<adaptive::Adam> sharded(params, {}, group);
      set_grads(params, 0);
      sharded.step();
      std::vector<torch::Tensor> before;
      for (const auto& p : params) before.push_back(p.detach().clone());
      edit(sharded.param_groups()[0].params());
      for (const auto& p : sharded.param_groups()[0].params()) {
        if (!p.grad().defined()) p.mutable_grad() = torch::ones_like(p);
      }
      const std::string message = sharded_error([&] { sharded.step(); });
      EXPECT_NE(message.find("adaptive::ShardedOptimizer: " + expected), std::string::npos) << message;
      for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], before[i])) << i;
    });
  }
}

TEST(Sharded, NonLeafParametersAreRefused) {
  run_ranks(2, [&](int, Group group) {
    auto params = make_params();
    params[3] = params[3] * 2;  // computed: it would never train
    const std::string message = sharded_error([&] { adaptive::ShardedOptimizer<adaptive::Adam>(params, {}, group); });
    EXPECT_NE(message.find("parameter 3 of group 0 is not a leaf tensor"), std::string::npos) << message;
  });
}

// A complex parameter is not sharded (its pieces would need a real view of
// the flat buffer): refused by name, where the unsharded optimizer takes it.
TEST(Sharded, ComplexParametersAreRefusedByName) {
  run_ranks(2, [&](int, Group group) {
    auto params = make_params();
    params[1] = torch::randn({3}, torch::kComplexFloat).requires_grad_();
    const std::string message = sharded_error([&] { adaptive::ShardedOptimizer<adaptive::Adam>(params, {}, group); });
    EXPECT_NE(message.find("parameter 1 of group 0 is of dtype ComplexFloat; a sharded optimizer takes defined real "
                           "floating-point parameters"),
              std::string::npos)
        << message;
  });
}

// Every rank computes the partition from its own list: (a, b) on one rank
// and (b, a) on another used to leave b holding a's values on both.
TEST(Sharded, RanksThatPassDifferentParametersAreRefusedOnEveryRank) {
  const std::vector<std::pair<std::function<void(int, std::vector<torch::Tensor>&)>, std::string>> cases = {
      {[](int rank, auto& params) {
         if (rank == 1) std::swap(params[0], params[2]);
       },
       "the ranks passed different parameters: parameter 0 (counting through the groups) has shape [20, 50] on rank 1 "
       "but [300, 20] on rank 0"},
      {[](int rank, auto& params) {
         if (rank == 1) params.pop_back();
       },
       "the ranks passed different parameters: rank 1 passed 7 parameters, rank 0 passed 8"}};
  for (const auto& [mistake, expected] : cases) {
    std::vector<std::string> messages(2);
    run_ranks(2, [&](int rank, Group group) {
      auto params = make_params();
      mistake(rank, params);
      messages[rank] = sharded_error([&] { adaptive::ShardedOptimizer<adaptive::Adam>(params, {}, group); });
    });
    for (int rank = 0; rank < 2; ++rank) {
      EXPECT_NE(messages[rank].find(expected), std::string::npos) << "rank " << rank << ": " << messages[rank];
    }
  }
  // One rank's own checks refuse its arguments: the other does not wait for it forever.
  std::vector<std::string> messages(2);
  run_ranks(2, [&](int rank, Group group) {
    auto params = make_params();
    if (rank == 0) params[1] = params[0];
    messages[rank] = sharded_error([&] { adaptive::ShardedOptimizer<adaptive::Adam>(params, {}, group); });
  });
  EXPECT_NE(messages[0].find("appears more than once"), std::string::npos) << messages[0];
  EXPECT_NE(messages[1].find("rank 0 refused its arguments"), std::string::npos) << messages[1];
}

}  // namespace
