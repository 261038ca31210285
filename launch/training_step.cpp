// launch/training_step.cpp — TrainingStep.
#include "launch/training_step.h"

#include <chrono>
#include <map>

#include "core/errors.h"

namespace vrf::launch {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string shape_of(const torch::Tensor& t) {
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i) text += (i ? ", " : "") + std::to_string(t.size(i));
  return text + "]";
}

std::string optimizer_key(const torch::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

}  // namespace

TrainingStep::TrainingStep(std::shared_ptr<core::RewardModelImpl> model,
                           dist::Communicator& communicator, const OptimizerConfig& config,
                           int64_t user_begin, int64_t user_end)
    : model_(std::move(model)),
      communicator_(communicator),
      loss_(core::loss_options_for(model_->config())),
      shared_(model_->parameters()),
      user_begin_(user_begin),
      user_end_(user_end) {
  // Identical shared state everywhere: parameters and buffers (standardization) from rank 0.
  std::vector<torch::Tensor> state = shared_;
  for (const auto& buffer : model_->buffers()) state.push_back(buffer);
  dist::broadcast_from_root(state, communicator_);
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      shared_, torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));
  all_reducer_ =
      std::make_unique<dist::GradientAllReducer>(shared_, communicator_, config.bucket_bytes);
  if (model_->user_param_dim() > 0) {
    user_table_.emplace(user_begin, user_end - user_begin, model_->user_param_dim(),
                        config.user_init_std, config.seed, shared_.front().scalar_type(),
                        shared_.front().device());
  }
}

torch::Tensor TrainingStep::user_params_for(const torch::Tensor& user_rows, bool for_training) {
  if (!user_table_) return {};
  TORCH_CHECK(user_rows.numel() == 0 || (user_rows.min().item<int64_t>() >= user_begin_ &&
                                         user_rows.max().item<int64_t>() < user_end_),
              "users outside this rank's range [", user_begin_, ", ", user_end_, ")");
  const auto rows = user_table_->gather(user_rows - user_begin_);
  return for_training ? rows : rows.detach();
}

io::NamedTensors TrainingStep::shared_state() const {
  io::NamedTensors state;
  for (const auto& p : model_->named_parameters())
    state.emplace_back("/params/" + p.key(), p.value());
  for (const auto& b : model_->named_buffers())
    state.emplace_back("/buffers/" + b.key(), b.value());
  const auto& optimizer_state = optimizer_->state();
  for (const auto& p : model_->named_parameters()) {
    const auto found = optimizer_state.find(optimizer_key(p.value()));
    if (found == optimizer_state.end()) continue;
    const auto& adam = static_cast<const torch::optim::AdamWParamState&>(*found->second);
    const std::string prefix = "/optimizer/" + p.key();
    state.emplace_back(prefix + "/step", torch::tensor({adam.step()}, torch::kInt64));
    state.emplace_back(prefix + "/exp_avg", adam.exp_avg());
    state.emplace_back(prefix + "/exp_avg_sq", adam.exp_avg_sq());
  }
  return state;
}

void TrainingStep::load_shared_state(const io::NamedTensors& state, const std::string& where) {
  std::map<std::string, torch::Tensor> saved(state.begin(), state.end());
  const auto take = [&](const std::string& name, const torch::Tensor& into) {
    const auto found = saved.find(name);
    if (found == saved.end()) {
      throw DataError(where + ": " + name + " is missing (saved by another model? this one is " +
                      core::to_string(model_->config().kind) + ")");
    }
    if (found->second.sizes() != into.sizes()) {
      throw DataError(where + ": " + name + " has shape " + shape_of(found->second) +
                      " but this model's is " + shape_of(into) +
                      " (different --bases/--latent-dim/--hidden or store dimension)");
    }
    return found->second;
  };
  torch::NoGradGuard no_grad;
  for (auto& p : model_->named_parameters()) p.value().copy_(take("/params/" + p.key(), p.value()));
  for (auto& b : model_->named_buffers()) b.value().copy_(take("/buffers/" + b.key(), b.value()));
  auto& optimizer_state = optimizer_->state();
  optimizer_state.clear();
  for (const auto& p : model_->named_parameters()) {
    const std::string prefix = "/optimizer/" + p.key();
    if (saved.count(prefix + "/step") == 0) continue;
    auto adam = std::make_unique<torch::optim::AdamWParamState>();
    adam->step(saved.at(prefix + "/step").item<int64_t>());
    adam->exp_avg(take(prefix + "/exp_avg", p.value()).to(p.value().options()).clone());
    adam->exp_avg_sq(take(prefix + "/exp_avg_sq", p.value()).to(p.value().options()).clone());
    optimizer_state[optimizer_key(p.value())] = std::move(adam);
  }
}

StepResult TrainingStep::run(const core::PairBatch& host_batch, double lr, StepRequests requests,
                             bool poison) {
  StepResult result;
  model_->train();
  const auto& reference = shared_.front();
  const auto batch = host_batch.to(reference.device(), reference.scalar_type());
  const auto user_params = user_params_for(batch.user_rows, true);
  auto out = model_->forward(batch, user_params);
  if (poison) out.margins = out.margins * std::numeric_limits<double>::quiet_NaN();

  // One small all-reduce: [attenuation score sum, users, query pairs, stop and checkpoint
  // requests].
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(reference.device());
  auto globals = torch::stack({loss_.attenuation_score_sum(out).to(torch::kFloat64),
                               torch::tensor(double(batch.num_users()), options),
                               batch.query_mask.sum().to(torch::kFloat64),
                               torch::tensor(requests.stop ? 1.0 : 0.0, options),
                               torch::tensor(requests.checkpoint ? 1.0 : 0.0, options)});
  auto started = std::chrono::steady_clock::now();
  communicator_.all_reduce_sum_(globals);
  result.comm_seconds += seconds_since(started);
  result.global_users = static_cast<int64_t>(globals[1].item<double>());
  result.global_pairs = static_cast<int64_t>(globals[2].item<double>());
  result.stop_requested = globals[3].item<double>() > 0;
  result.checkpoint_requested = globals[4].item<double>() > 0;

  const auto weights = loss_.attenuation_weights(out, result.global_users, globals[0]);
  const auto sum = loss_.user_sum(out, batch, weights);
  optimizer_->zero_grad();
  sum.total.backward();

  // Health: every rank learns whether any rank saw a non-finite loss or gradient.
  bool finite = std::isfinite(sum.total.item<double>());
  for (const auto& p : shared_) {
    if (p.grad().defined()) finite = finite && torch::isfinite(p.grad()).all().item<bool>();
  }
  if (user_params.defined()) {
    finite = finite && torch::isfinite(user_params.grad()).all().item<bool>();
  }
  auto health = torch::tensor(
      {finite ? 0.0 : 1.0, sum.total.item<double>(), sum.nll.item<double>()}, options);
  started = std::chrono::steady_clock::now();
  communicator_.all_reduce_sum_(health);
  result.comm_seconds += seconds_since(started);
  if (health[0].item<double>() > 0) return result;  // skipped by all ranks together

  result.loss = health[1].item<double>() / double(result.global_users);
  result.nll = health[2].item<double>() / double(result.global_users);
  started = std::chrono::steady_clock::now();
  all_reducer_->average_(double(result.global_users));
  result.comm_seconds += seconds_since(started);
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
  optimizer_->step();
  if (user_params.defined()) {
    // Per-user gradients stay on their owner: scale as the all-reducer scales the shared ones.
    user_table_->apply_gradient(batch.user_rows - user_begin_,
                                user_params.grad() / double(result.global_users), lr);
  }
  result.applied = true;
  return result;
}

}  // namespace vrf::launch
