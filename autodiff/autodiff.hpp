// pgcpp's reverse-mode automatic differentiation: include this one header.
#pragma once

#include "autodiff/errors.hpp"
#include "autodiff/memory.hpp"
#include "autodiff/nn.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/optim.hpp"
#include "core/random.hpp"
#include "core/scalar.hpp"
#include "autodiff/var.hpp"
