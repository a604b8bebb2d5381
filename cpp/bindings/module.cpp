// The pybind11 module fastmlp._core: converts arrays, checks shapes, releases the
// GIL and calls the core. No arithmetic happens here.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../engine.hpp"
#include "../fit_options.hpp"
#include "../model.hpp"
#include "../random.hpp"

namespace py = pybind11;
using fastmlp::Index;

namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;
using Mask = py::array_t<bool, py::array::c_style | py::array::forcecast>;

fastmlp::Activation parse_activation(const std::string& name) {
  if (name == "identity") return fastmlp::Activation::kIdentity;
  if (name == "logistic") return fastmlp::Activation::kLogistic;
  if (name == "tanh") return fastmlp::Activation::kTanh;
  if (name == "relu") return fastmlp::Activation::kRelu;
  throw py::value_error("activation must be one of 'identity', 'logistic', 'tanh', 'relu', got '" +
                        name + "'");
}

fastmlp::Optimizer parse_optimizer(const std::string& name) {
  if (name == "sgd") return fastmlp::Optimizer::kSgd;
  if (name == "rmsprop") return fastmlp::Optimizer::kRmsprop;
  if (name == "adam") return fastmlp::Optimizer::kAdam;
  throw py::value_error("optimizer must be one of 'sgd', 'rmsprop', 'adam', got '" + name +
                        "'");
}

fastmlp::ForwardPath parse_forward_path(const std::string& name) {
  if (name == "auto") return fastmlp::ForwardPath::kAuto;
  if (name == "dense") return fastmlp::ForwardPath::kDense;
  if (name == "sparse") return fastmlp::ForwardPath::kSparse;
  throw py::value_error("path must be one of 'auto', 'dense', 'sparse', got '" + name +
                        "'");
}

fastmlp::Output parse_output(const std::string& name) {
  if (name == "softmax") return fastmlp::Output::kSoftmax;
  if (name == "logistic") return fastmlp::Output::kLogistic;
  if (name == "identity") return fastmlp::Output::kIdentity;
  throw py::value_error("output must be one of 'softmax', 'logistic', 'identity', got '" +
                        name + "'");
}

std::string shape_of(const py::array& a) { return py::str(a.attr("shape")); }

// Throws ValueError unless `a` is 2-D with `cols` columns (and `rows` rows when >= 0).
void check_matrix(const py::array& a, const char* name, Index rows, Index cols) {
  const bool ok = a.ndim() == 2 && a.shape(1) == cols && (rows < 0 || a.shape(0) == rows);
  if (!ok) {
    const std::string expected_rows = rows < 0 ? "n" : std::to_string(rows);
    throw py::value_error(std::string(name) + " must have shape (" + expected_rows + ", " +
                          std::to_string(cols) + "), got " + shape_of(a));
  }
}

// Returns the data of optional sample weights (null without them), after
// checking that they are 1-D with n entries.
template <typename T>
const T* sample_weight_data(const std::optional<Array<T>>& sample_weight, Index n) {
  if (!sample_weight) return nullptr;
  if (sample_weight->ndim() != 1 || sample_weight->shape(0) != n) {
    throw py::value_error("sample_weight must have shape (" + std::to_string(n) +
                          ",), got " + shape_of(*sample_weight));
  }
  return sample_weight->data();
}

// Polls Python for pending signals (Ctrl-C) at most every 20 ms, so a loop of tiny
// batches does not take the GIL thousands of times a second. A raised exception is
// kept and rethrown once the GIL is held again.
class SignalPoller {
 public:
  bool operator()() {
    // Reading the clock at every call cost a tenth of a one-sample XOR step, so
    // it is read every `stride_` calls. The stride doubles while reads come
    // less than 1 ms apart and halves when they come more than 20 ms apart, so
    // a Ctrl-C waits an estimated 40 ms at most (4-19 ms measured).
    if (++calls_ < stride_) return false;
    calls_ = 0;
    const auto now = std::chrono::steady_clock::now();
    const auto since_read = now - last_read_;
    last_read_ = now;
    if (since_read < std::chrono::milliseconds(1) && stride_ < kMaxStride) stride_ *= 2;
    if (since_read > std::chrono::milliseconds(20) && stride_ > 1) stride_ /= 2;
    if (now - last_poll_ < std::chrono::milliseconds(20)) return false;
    last_poll_ = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    error_.emplace();  // fetches and clears the pending exception
    return true;
  }
  std::optional<py::error_already_set>& error() { return error_; }

 private:
  static constexpr int kMaxStride = 1024;
  int calls_ = 0;
  int stride_ = 1;
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_poll_ = last_read_;
  std::optional<py::error_already_set> error_;
};

// Marks a model as training for the lifetime of one fit call, so that another
// Python thread cannot train it, change its weights or read them half-updated
// while the GIL is released. The thread that runs fit may still call forward
// from its epoch callback. readers counts the calls that read the model with the
// GIL released (see ReadGuard): fit does not start under them either. Each side
// publishes itself before it checks the other, so one of two racing calls always
// finds the other.
class TrainingGuard {
 public:
  TrainingGuard(std::atomic<bool>& busy, std::atomic<std::thread::id>& owner,
                const std::atomic<int>& readers)
      : busy_(busy), owner_(owner) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true)) {
      if (owner_.load() == std::this_thread::get_id()) {
        throw std::runtime_error(
            "fit cannot be called on a model from its own fit's callback; stop the "
            "running fit (return True from the callback) and call fit again after it");
      }
      throw std::runtime_error(
          "fit is already running on this model in another thread; train one model "
          "from one thread at a time, or copy it first");
    }
    if (readers.load() > 0) {
      busy_.store(false);
      throw std::runtime_error(
          "cannot start fit while forward, gradients or another computation reads this "
          "model in another thread; wait for it to return, or copy the model first");
    }
    owner_.store(std::this_thread::get_id());
  }
  ~TrainingGuard() { busy_.store(false); }
  TrainingGuard(const TrainingGuard&) = delete;
  TrainingGuard& operator=(const TrainingGuard&) = delete;

 private:
  std::atomic<bool>& busy_;
  std::atomic<std::thread::id>& owner_;
};

template <typename T>
class PyNetwork {
 public:
  PyNetwork(const std::vector<Index>& sizes, const std::string& activation,
            const std::string& output, std::uint64_t seed)
      : net_(sizes, parse_activation(activation), parse_output(output), seed) {}

  std::vector<Index> sizes() const { return net_.sizes(); }
  std::uint64_t seed() const { return net_.seed(); }
  std::uint64_t epoch() const { return net_.epoch(); }
  void set_epoch(std::uint64_t epoch) {
    check_not_training("set the epoch of");
    net_.set_epoch(epoch);
  }
  std::uint64_t adam_step() const { return net_.adam_step(); }
  void set_adam_step(std::uint64_t step) {
    check_not_training("set the Adam step count of");
    net_.set_adam_step(step);
  }

  // Whether the state arrays of an optimizer exist. They are allocated as zeros
  // when the optimizer first trains the model, or when one of them is set.
  bool has_state(const std::string& optimizer) const {
    return net_.has_state(parse_optimizer(optimizer));
  }

  // A copy of one layer's parameter or optimizer state array, named as in
  // select. A state array that was never allocated reads as zeros.
  py::array_t<T> get_parameter(Index l, const std::string& which) const {
    check_not_training("read the parameters of");
    const fastmlp::Layer<T>& layer = layer_at(l);
    const auto& buffer = select(const_cast<fastmlp::Layer<T>&>(layer), which);
    std::vector<py::ssize_t> shape{layer.n_out};
    if (is_matrix(which)) shape.push_back(layer.n_in);
    py::array_t<T> out(shape);
    if (buffer.empty()) {
      std::fill(out.mutable_data(), out.mutable_data() + out.size(), T(0));
    } else {
      std::copy(buffer.begin(), buffer.end(), out.mutable_data());
    }
    return out;
  }

  void set_parameter(Index l, const std::string& which, const Array<T>& value) {
    check_not_training("change the parameters of");
    fastmlp::Layer<T>& layer = layer_at(l);
    auto& buffer = select(layer, which);
    const bool matrix = is_matrix(which);
    const bool ok = matrix ? value.ndim() == 2 && value.shape(0) == layer.n_out &&
                                 value.shape(1) == layer.n_in
                           : value.ndim() == 1 && value.shape(0) == layer.n_out;
    if (!ok) {
      const std::string expected = matrix ? "(" + std::to_string(layer.n_out) + ", " +
                                                std::to_string(layer.n_in) + ")"
                                          : "(" + std::to_string(layer.n_out) + ",)";
      throw py::value_error(which + " of layer " + std::to_string(l) + " must have shape " +
                            expected + ", got " + shape_of(value));
    }
    buffer.resize(value.size());
    std::copy(value.data(), value.data() + value.size(), buffer.begin());
    net_.apply_keep_mask(l);  // assigned weights keep the layer's pruning
  }

  Array<T> forward(const Array<T>& X, int n_threads) const {
    const ReadGuard reading(*this, "run forward on");
    check_matrix(X, "X", -1, net_.n_in());
    const Index n = X.shape(0);
    Array<T> Y_hat({n, net_.n_out()});
    const T* x = X.data();
    T* y_hat = Y_hat.mutable_data();
    {
      py::gil_scoped_release release;
      fastmlp::active_engine<T>().predict(net_, x, y_hat, n,
                                          fastmlp::resolve_threads(n_threads));
    }
    return Y_hat;
  }

  // Returns forward's outputs, or None when X has a NaN or infinity, so that the
  // caller can skip its own, slower scan and still report where they are.
  py::object forward_if_finite(const Array<T>& X, int n_threads) const {
    check_matrix(X, "X", -1, net_.n_in());
    if (!fastmlp::all_finite(X.data(), X.size())) return py::none();
    return forward(X, n_threads);
  }

  Array<T> forward_with_path(const Array<T>& X, const std::string& path,
                             int n_threads) const {
    const ReadGuard reading(*this, "run forward on");
    check_matrix(X, "X", -1, net_.n_in());
    const fastmlp::ForwardPath forward_path = parse_forward_path(path);
    const Index n = X.shape(0);
    Array<T> Y_hat({n, net_.n_out()});
    const T* x = X.data();
    T* y_hat = Y_hat.mutable_data();
    {
      py::gil_scoped_release release;
      const int threads = fastmlp::resolve_threads(n_threads);
      fastmlp::active_engine<T>().predict_with_path(net_, x, y_hat, n, forward_path,
                                                    threads);
    }
    return Y_hat;
  }

  py::list hessian_diagonal(const Array<T>& X, int n_threads) const {
    const ReadGuard reading(*this, "compute the Hessian of");
    check_matrix(X, "X", -1, net_.n_in());
    if (X.shape(0) < 1) throw py::value_error("X must contain at least one sample");
    const Index L = net_.n_layers();
    py::list H_list;
    std::vector<T*> H(L);
    for (Index l = 0; l < L; ++l) {
      const fastmlp::Layer<T>& layer = net_.layer(l);
      py::array_t<T> H_l({layer.n_out, layer.n_in});
      H[l] = H_l.mutable_data();
      H_list.append(H_l);
    }
    const T* x = X.data();
    const Index n = X.shape(0);
    {
      py::gil_scoped_release release;
      fastmlp::active_engine<T>().hessian_diagonal(net_, x, n, H,
                                                   fastmlp::resolve_threads(n_threads));
    }
    return H_list;
  }

  // Layer l's keep-mask (n_out, n_in): True for kept weights, all True when the
  // layer has no removed weight.
  py::array_t<bool> get_keep_mask(Index l) const {
    check_not_training("read the weight masks of");
    const fastmlp::Layer<T>& layer = layer_at(l);
    py::array_t<bool> keep({layer.n_out, layer.n_in});
    bool* out = keep.mutable_data();
    if (layer.keep.empty()) {
      std::fill(out, out + layer.n_out * layer.n_in, true);
    } else {
      std::transform(layer.keep.begin(), layer.keep.end(), out,
                     [](std::uint8_t k) { return k != 0; });
    }
    return keep;
  }

  void set_keep_mask(Index l, const Mask& keep) {
    check_not_training("change the weight masks of");
    const fastmlp::Layer<T>& layer = layer_at(l);
    check_matrix(keep, ("weight_masks[" + std::to_string(l) + "]").c_str(), layer.n_out,
                 layer.n_in);
    net_.set_keep_mask(l, reinterpret_cast<const std::uint8_t*>(keep.data()));
  }

  py::tuple gradients(const Array<T>& X, const Array<T>& Y,
                      const std::optional<Array<T>>& sample_weight,
                      const std::vector<std::optional<Mask>>& masks,
                      const std::vector<double>& dropout, int n_threads) const {
    const ReadGuard reading(*this, "compute gradients of");
    check_matrix(X, "X", -1, net_.n_in());
    const Index n = X.shape(0);
    check_matrix(Y, "Y", n, net_.n_out());
    const T* weights = sample_weight_data(sample_weight, n);
    const Index L = net_.n_layers();
    if (static_cast<Index>(masks.size()) != L || static_cast<Index>(dropout.size()) != L) {
      throw py::value_error("masks and dropout must each hold " + std::to_string(L) +
                            " entries, one per layer input");
    }
    std::vector<const std::uint8_t*> mask_data(L, nullptr);
    for (Index l = 0; l < L; ++l) {
      if (!masks[l]) continue;
      check_matrix(*masks[l], ("masks[" + std::to_string(l) + "]").c_str(), n,
                   net_.sizes()[l]);
      mask_data[l] = reinterpret_cast<const std::uint8_t*>(masks[l]->data());
    }

    py::list dW_list, db_list;
    std::vector<T*> dW(L), db(L);
    for (Index l = 0; l < L; ++l) {
      const fastmlp::Layer<T>& layer = net_.layer(l);
      py::array_t<T> dW_l({layer.n_out, layer.n_in}), db_l(layer.n_out);
      dW[l] = dW_l.mutable_data();
      db[l] = db_l.mutable_data();
      dW_list.append(dW_l);
      db_list.append(db_l);
    }
    const T* x = X.data();
    const T* y = Y.data();
    double loss;
    {
      py::gil_scoped_release release;
      loss = fastmlp::active_engine<T>().gradients(net_, x, y, weights, n, mask_data, dropout,
                                                   dW, db, fastmlp::resolve_threads(n_threads));
    }
    return py::make_tuple(loss, dW_list, db_list);
  }

  // The weights and biases as one float64 vector: per layer W (row-major), then b.
  py::array_t<double> flat_parameters() const {
    check_not_training("read the parameters of");
    py::array_t<double> theta(net_.n_parameters());
    double* out = theta.mutable_data();
    for (Index l = 0; l < net_.n_layers(); ++l) {
      const fastmlp::Layer<T>& layer = net_.layer(l);
      out = std::copy(layer.W.begin(), layer.W.end(), out);
      out = std::copy(layer.b.begin(), layer.b.end(), out);
    }
    return theta;
  }

  // Sets the parameters to theta and returns (E, dE/dtheta) for the whole of
  // (X, Y): E = mean data loss + l2/2 ||W||^2 + l1 ||W||_1.
  py::tuple objective(const Array<double>& theta, const Array<T>& X, const Array<T>& Y,
                      const std::optional<Array<T>>& sample_weight, double l1, double l2,
                      int n_threads) {
    const ReadGuard reading(*this, "compute the objective of");
    if (theta.ndim() != 1 || theta.shape(0) != net_.n_parameters()) {
      throw py::value_error("theta must have shape (" + std::to_string(net_.n_parameters()) +
                            ",), got " + shape_of(theta));
    }
    check_matrix(X, "X", -1, net_.n_in());
    const Index n = X.shape(0);
    if (n < 1) throw py::value_error("X must have at least one row, got 0");
    check_matrix(Y, "Y", n, net_.n_out());
    const T* weights = sample_weight_data(sample_weight, n);
    py::array_t<double> grad(net_.n_parameters());
    const double* t = theta.data();
    const T* x = X.data();
    const T* y = Y.data();
    double* g = grad.mutable_data();
    double loss;
    {
      py::gil_scoped_release release;
      loss = fastmlp::active_engine<T>().objective(net_, t, x, y, weights, n, l1, l2, g,
                                                   fastmlp::resolve_threads(n_threads));
    }
    return py::make_tuple(loss, grad);
  }

  // Returns (history, penalties): per epoch the loss and its penalty part. The
  // callback, if any, is called as callback(epoch, loss, penalty).
  // learning_rate is a float, or a callable schedule(epoch) -> float called
  // before each epoch (from 1).
  py::tuple fit(const Array<T>& X, const Array<T>& Y,
                const std::optional<Array<T>>& sample_weight, Index epochs, Index batch_size,
                const std::string& optimizer, const py::object& learning_rate, double momentum,
                bool nesterov, double beta_1, double beta_2, double rho, double epsilon,
                double l1, double l2, bool scale_penalty_by_batch,
                const std::vector<double>& dropout, bool shuffle,
                const std::optional<py::function>& callback, int n_threads) {
    check_matrix(X, "X", -1, net_.n_in());
    check_matrix(Y, "Y", X.shape(0), net_.n_out());
    const T* weights = sample_weight_data(sample_weight, X.shape(0));
    fastmlp::FitOptions options;
    options.epochs = epochs;
    options.batch_size = batch_size;
    options.step.optimizer = parse_optimizer(optimizer);
    const bool scheduled = PyCallable_Check(learning_rate.ptr()) != 0;
    if (!scheduled) options.step.learning_rate = learning_rate.cast<double>();
    options.step.momentum = momentum;
    options.step.nesterov = nesterov;
    options.step.beta_1 = beta_1;
    options.step.beta_2 = beta_2;
    options.step.rho = rho;
    options.step.epsilon = epsilon;
    options.step.l1 = l1;
    options.step.l2 = l2;
    options.scale_penalty_by_batch = scale_penalty_by_batch;
    options.dropout = dropout;
    options.shuffle = shuffle;
    fastmlp::check_fit_options(options, net_.n_layers(), !scheduled);

    TrainingGuard guard(busy_, owner_, readers_);
    SignalPoller poller;
    std::optional<py::error_already_set> callback_error;
    fastmlp::FitHooks hooks;
    hooks.stop_requested = [&poller]() { return poller(); };
    if (callback) {
      hooks.epoch_end = [&callback, &callback_error](Index epoch, double loss,
                                                     double penalty) {
        py::gil_scoped_acquire gil;
        try {
          return bool(py::bool_((*callback)(epoch, loss, penalty)));
        } catch (py::error_already_set& e) {
          callback_error.emplace(std::move(e));
          return true;
        }
      };
    }

    if (scheduled) {
      // An exception from the schedule propagates out of the core's fit, which
      // calls the schedule before the epoch changes anything.
      hooks.learning_rate = [&learning_rate](Index epoch) {
        py::gil_scoped_acquire gil;
        return learning_rate(epoch).cast<double>();
      };
    }

    const T* x = X.data();
    const T* y = Y.data();
    const Index n = X.shape(0);
    fastmlp::FitResult result;
    {
      py::gil_scoped_release release;
      result = fastmlp::active_engine<T>().fit(net_, x, y, weights, n, options, hooks,
                                               fastmlp::resolve_threads(n_threads));
    }
    if (poller.error()) throw std::move(*poller.error());
    if (callback_error) throw std::move(*callback_error);
    return py::make_tuple(result.history, result.penalties);
  }

 private:
  // Throws RuntimeError when another thread is running fit on this model; the
  // thread running fit itself (in its epoch callback) passes.
  void check_not_training(const char* action) const {
    if (busy_.load() && owner_.load() != std::this_thread::get_id()) {
      throw std::runtime_error(std::string("cannot ") + action +
                               " a model while fit runs on it in another thread");
    }
  }

  // Counts a call that reads the model with the GIL released for its lifetime,
  // so that fit cannot start under it (see TrainingGuard). Throws as
  // check_not_training.
  class ReadGuard {
   public:
    ReadGuard(const PyNetwork& network, const char* action) : readers_(network.readers_) {
      readers_.fetch_add(1);
      try {
        network.check_not_training(action);
      } catch (...) {
        readers_.fetch_sub(1);
        throw;
      }
    }
    ~ReadGuard() { readers_.fetch_sub(1); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

   private:
    std::atomic<int>& readers_;
  };

  fastmlp::Layer<T>& layer_at(Index l) {
    if (l < 0 || l >= net_.n_layers()) {
      throw py::index_error("layer index must be in [0, " + std::to_string(net_.n_layers()) +
                            "), got " + std::to_string(l));
    }
    return net_.layer(l);
  }
  const fastmlp::Layer<T>& layer_at(Index l) const {
    return const_cast<PyNetwork*>(this)->layer_at(l);
  }

  // The array named `which`: a parameter ("W", "b"), SGD's velocities ("vW",
  // "vb"), Adam's moments ("adam_mW", "adam_mb", "adam_vW", "adam_vb") or
  // RMSprop's mean squares ("rmsprop_sW", "rmsprop_sb").
  static fastmlp::Buffer<T>& select(fastmlp::Layer<T>& layer, const std::string& which) {
    if (which == "W") return layer.W;
    if (which == "b") return layer.b;
    if (which == "vW") return layer.vW;
    if (which == "vb") return layer.vb;
    if (which == "adam_mW") return layer.adam_mW;
    if (which == "adam_mb") return layer.adam_mb;
    if (which == "adam_vW") return layer.adam_vW;
    if (which == "adam_vb") return layer.adam_vb;
    if (which == "rmsprop_sW") return layer.rmsprop_sW;
    if (which == "rmsprop_sb") return layer.rmsprop_sb;
    throw py::value_error(
        "parameter must be 'W', 'b', 'vW', 'vb', 'adam_mW', 'adam_mb', 'adam_vW', "
        "'adam_vb', 'rmsprop_sW' or 'rmsprop_sb', got '" + which + "'");
  }

  // Whether the array named `which` is shaped like W rather than like b.
  static bool is_matrix(const std::string& which) {
    return !which.empty() && which.back() == 'W';
  }

  fastmlp::Model<T> net_;
  std::atomic<bool> busy_{false};
  std::atomic<std::thread::id> owner_{};
  mutable std::atomic<int> readers_{0};
};

template <typename T>
void bind_network(py::module_& m, const char* name) {
  py::class_<PyNetwork<T>>(m, name, "A network and its optimizer state in one dtype.")
      .def(py::init<const std::vector<Index>&, const std::string&, const std::string&,
                    std::uint64_t>(),
           py::arg("sizes"), py::arg("activation"), py::arg("output"), py::arg("seed"))
      .def_property_readonly("sizes", &PyNetwork<T>::sizes)
      .def_property_readonly("seed", &PyNetwork<T>::seed)
      .def_property("epoch", &PyNetwork<T>::epoch, &PyNetwork<T>::set_epoch,
                    "Epochs trained so far; keys shuffling and dropout.")
      .def_property("adam_step", &PyNetwork<T>::adam_step, &PyNetwork<T>::set_adam_step,
                    "Adam updates taken so far: the t of its bias correction.")
      .def("has_state", &PyNetwork<T>::has_state, py::arg("optimizer"),
           "Return whether the state arrays of 'sgd', 'rmsprop' or 'adam' exist.")
      .def("get_parameter", &PyNetwork<T>::get_parameter, py::arg("layer"), py::arg("which"),
           "Return a copy of one layer's parameter or optimizer state array.")
      .def("set_parameter", &PyNetwork<T>::set_parameter, py::arg("layer"), py::arg("which"),
           py::arg("value"), "Copy an array into one layer's parameter or optimizer state.")
      .def("forward", &PyNetwork<T>::forward, py::arg("X"), py::arg("n_threads"),
           "Return the output activations for X (n, n_in).")
      .def("forward_if_finite", &PyNetwork<T>::forward_if_finite, py::arg("X"),
           py::arg("n_threads"),
           "Return forward's outputs, or None when X contains a NaN or infinity.")
      .def("forward_with_path", &PyNetwork<T>::forward_with_path, py::arg("X"),
           py::arg("path"), py::arg("n_threads"),
           "Return forward's outputs with the product of pruned layers forced: "
           "'auto' (by density), 'dense' or 'sparse'.")
      .def("hessian_diagonal", &PyNetwork<T>::hessian_diagonal, py::arg("X"),
           py::arg("n_threads"),
           "Return the Gauss-Newton diagonal of the Hessian of the mean loss over X, "
           "one (n_out, n_in) array per layer.")
      .def("get_keep_mask", &PyNetwork<T>::get_keep_mask, py::arg("layer"),
           "Return the boolean keep-mask of one layer's weights.")
      .def("set_keep_mask", &PyNetwork<T>::set_keep_mask, py::arg("layer"),
           py::arg("keep"),
           "Set the keep-mask of one layer's weights and zero the removed ones.")
      .def("gradients", &PyNetwork<T>::gradients, py::arg("X"), py::arg("Y"),
           py::arg("sample_weight"), py::arg("masks"), py::arg("dropout"),
           py::arg("n_threads"), "Return (mean data loss, dW list, db list) for one batch.")
      .def("flat_parameters", &PyNetwork<T>::flat_parameters,
           "Return the weights and biases as one float64 vector (per layer W, then b).")
      .def("objective", &PyNetwork<T>::objective, py::arg("theta"), py::arg("X"),
           py::arg("Y"), py::arg("sample_weight"), py::arg("l1"), py::arg("l2"),
           py::arg("n_threads"),
           "Set the parameters to theta; return the penalised loss and its flat gradient.")
      .def("fit", &PyNetwork<T>::fit, py::arg("X"), py::arg("Y"), py::arg("sample_weight"),
           py::arg("epochs"),
           py::arg("batch_size"), py::arg("optimizer"), py::arg("learning_rate"),
           py::arg("momentum"), py::arg("nesterov"), py::arg("beta_1"), py::arg("beta_2"),
           py::arg("rho"), py::arg("epsilon"), py::arg("l1"), py::arg("l2"),
           py::arg("scale_penalty_by_batch"), py::arg("dropout"), py::arg("shuffle"),
           py::arg("callback"), py::arg("n_threads"),
           "Train by minibatch updates; return per-epoch losses and their penalty parts.");
}

py::array_t<std::int64_t> shuffle_order(std::uint64_t seed, std::uint64_t epoch, Index n) {
  py::array_t<std::int64_t> order(n);
  std::vector<Index> buffer(n);
  fastmlp::shuffle_order(seed, epoch, buffer.data(), n);
  std::copy(buffer.begin(), buffer.end(), order.mutable_data());
  return order;
}

py::array_t<bool> dropout_mask(std::uint64_t seed, std::uint64_t epoch, std::uint64_t batch,
                               Index layer, Index rows, Index width, double p) {
  py::array_t<bool> keep({rows, width});
  bool* out = keep.mutable_data();
  const std::uint64_t key = fastmlp::dropout_key(seed, epoch, batch, layer);
  for (Index e = 0; e < rows * width; ++e) out[e] = fastmlp::dropout_keeps(key, e, p);
  return keep;
}

// C = op(A) op(B), where op transposes when asked; for benchmarks and kernel tests.
template <typename T>
Array<T> matmul(const Array<T>& A, const Array<T>& B, bool transpose_a, bool transpose_b,
                int n_threads) {
  if (A.ndim() != 2 || B.ndim() != 2) {
    throw py::value_error("matmul expects 2-D A and B, got A " + shape_of(A) + ", B " +
                          shape_of(B));
  }
  const Index m = transpose_a ? A.shape(1) : A.shape(0);
  const Index k = transpose_a ? A.shape(0) : A.shape(1);
  const Index k_b = transpose_b ? B.shape(1) : B.shape(0);
  const Index n = transpose_b ? B.shape(0) : B.shape(1);
  if (k != k_b) {
    throw py::value_error("matmul: inner dimensions differ, op(A) is (" + std::to_string(m) +
                          ", " + std::to_string(k) + ") and op(B) is (" + std::to_string(k_b) +
                          ", " + std::to_string(n) + ")");
  }
  Array<T> C({m, n});
  fastmlp::MatrixView<T> a = fastmlp::row_major(A.data(), A.shape(1));
  fastmlp::MatrixView<T> b = fastmlp::row_major(B.data(), B.shape(1));
  if (transpose_a) a = a.transposed();
  if (transpose_b) b = b.transposed();
  T* c = C.mutable_data();
  {
    py::gil_scoped_release release;
    fastmlp::active_engine<T>().gemm(a, b, c, m, n, k, fastmlp::resolve_threads(n_threads));
  }
  return C;
}

// Whether every value of X is finite, scanned without the GIL.
template <typename T>
bool all_finite(const py::array_t<T, py::array::c_style>& X) {
  const T* x = X.data();
  const py::ssize_t n = X.size();
  py::gil_scoped_release release;
  return fastmlp::all_finite(x, n);
}

// The tile and block sizes of the active engine build for one dtype.
py::dict kernel_config(const std::string& dtype) {
  const auto describe = [](const auto& engine) {
    py::dict config;
    config["isa"] = engine.isa;
    config["mr"] = engine.gemm_mr;
    config["nr"] = engine.gemm_nr;
    config["max_kc"] = engine.gemm_max_kc;
    config["max_mc"] = engine.gemm_max_mc;
    config["max_nc"] = engine.gemm_max_nc;
    config["sparse_max_density"] = engine.sparse_max_density;
    config["sparse_max_density_small_batch"] = engine.sparse_max_density_small_batch;
    config["sparse_block_rows"] = engine.sparse_block_rows;
    return config;
  };
  if (dtype == "float32") return describe(fastmlp::active_engine<float>());
  if (dtype == "float64") return describe(fastmlp::active_engine<double>());
  throw py::value_error("dtype must be 'float32' or 'float64', got '" + dtype + "'");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Compiled core behind fastmlp.MLP; not a public interface.";
  bind_network<float>(m, "Network32");
  bind_network<double>(m, "Network64");
  m.def("shuffle_order", &shuffle_order, py::arg("seed"), py::arg("epoch"), py::arg("n"),
        "Return the sample order that fit uses in one epoch when shuffling.");
  m.def("dropout_mask", &dropout_mask, py::arg("seed"), py::arg("epoch"), py::arg("batch"),
        py::arg("layer"), py::arg("rows"), py::arg("width"), py::arg("p"),
        "Return the keep-mask fit draws for one layer input of one batch.");
  // float32 first: pybind11 tries overloads without conversion before converting,
  // so float64 arrays reach the float64 overload.
  m.def("matmul", &matmul<float>, py::arg("A"), py::arg("B"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::arg("n_threads") = 0,
        "Return op(A) op(B) with fastmlp's GEMM, in float32.");
  m.def("matmul", &matmul<double>, py::arg("A"), py::arg("B"), py::arg("transpose_a") = false,
        py::arg("transpose_b") = false, py::arg("n_threads") = 0,
        "Return op(A) op(B) with fastmlp's GEMM, in float64.");
  m.def("all_finite", &all_finite<float>, py::arg("X").noconvert(),
        "Return whether no value of a C-contiguous float32 array is NaN or infinite.");
  m.def("all_finite", &all_finite<double>, py::arg("X").noconvert(),
        "Return whether no value of a C-contiguous float64 array is NaN or infinite.");
  m.def("active_isa", []() { return std::string(fastmlp::isa_name(fastmlp::active_isa())); },
        "Return the instruction set of the GEMM kernels in use.");
  m.def("best_isa", []() { return std::string(fastmlp::isa_name(fastmlp::best_supported_isa())); },
        "Return the best instruction set this CPU supports.");
  m.def("set_isa", [](const std::string& name) { fastmlp::set_active_isa(fastmlp::parse_isa(name)); },
        py::arg("name"), "Select the GEMM kernels: 'portable', 'avx2' or 'avx512'.");
  m.def("kernel_config", &kernel_config, py::arg("dtype"),
        "Return the active engine's micro-kernel tile and GEMM block limits.");
  m.attr("compiler") = FASTMLP_COMPILER;
  m.attr("build_type") = FASTMLP_BUILD_TYPE;
  m.def("max_threads", []() { return omp_get_max_threads(); },
        "Return OpenMP's current maximum thread count.");
}
