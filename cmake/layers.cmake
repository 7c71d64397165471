# The layers of dopt and the include edges allowed between them: the one place that says so.
# Each layer is a directory of src/ (tools/cli is the "cli" layer) and one static library
# dopt_<layer> that links exactly the layers listed here. cmake/check_layers.cmake reads the
# same table and fails the build on any #include outside it (docs/architecture.md).
#
#   common <- kernels, ir <- io, ops <- passes <- executor ; data <- calib <- quant
#          <- frontends <- pipeline <- cli
#
# DOPT_LAYER_DEPS_<layer>: the layers its files may include (besides itself, include/dopt and
# the C++/system/third-party headers). DOPT_LAYER_PROTOS_<layer>: generated protobuf headers
# it may include (protobuf types stay inside the layer that owns the format).
set(DOPT_LAYERS common kernels ir io ops passes executor data calib quant frontends pipeline cli)

set(DOPT_LAYER_DEPS_common    "")
set(DOPT_LAYER_DEPS_kernels   common)
set(DOPT_LAYER_DEPS_ir        common)
set(DOPT_LAYER_DEPS_io        ir common)
set(DOPT_LAYER_DEPS_ops       ir kernels common)
set(DOPT_LAYER_DEPS_passes    ops ir kernels common)
set(DOPT_LAYER_DEPS_executor  passes ops ir kernels common)
set(DOPT_LAYER_DEPS_data      io ir common)
set(DOPT_LAYER_DEPS_calib     executor data passes ops ir kernels io common)
set(DOPT_LAYER_DEPS_quant     calib executor data passes ops ir kernels io common)
set(DOPT_LAYER_DEPS_frontends quant calib executor data passes ops ir kernels io common)
set(DOPT_LAYER_DEPS_pipeline  frontends quant calib executor data passes ops ir kernels io common)
set(DOPT_LAYER_DEPS_cli       pipeline frontends quant calib executor data passes ops ir kernels io common)

set(DOPT_LAYER_PROTOS_data      dopt_config.pb.h)
set(DOPT_LAYER_PROTOS_quant     compress_conf.pb.h)
set(DOPT_LAYER_PROTOS_frontends onnx.pb.h tf_graph.pb.h)
