// Inlining of TensorFlow function calls: a TF2 frozen graph calls the functions of its
// `library` (PartitionedCall / StatefulPartitionedCall with attr `f`, or a node whose op is a
// library function's name). The reader flattens them into plain nodes before conversion, and
// the flat GraphDef becomes the source the TF writer edits, so a quantized op inside a
// function is a node of the graph like any other. Internal to src/frontends/tf/.
//
// For a call node C of function F:
//  * each input_arg `a` becomes an Identity "C/a" of the call's data input (in order);
//  * each body node N becomes "C/N" (made unique if taken), its data inputs translated from
//    function form ("N:out_arg:i", or an argument name) to GraphDef form ("C/N:k", k counted
//    over N's output args), its control inputs dropped;
//  * C itself becomes an Identity (one output) or IdentityN (several) named C of F's `ret`
//    tensors, so "C" and "C:k" keep naming the call's outputs;
//  * calls inside the body are inlined the same way (nested prefixes).
// Top-level nodes keep their names: --input_shape / --out_nodes names still resolve.
#pragma once

#include <map>
#include <string>

#include "dopt/status.h"
#include "tf_graph.pb.h"

namespace dopt {

struct TfInlineResult {
  int calls_inlined = 0;
  // Calls that could not be inlined (function missing from the library, recursion, list
  // arguments, ...): call node name -> the error. They stay in the graph as they were; the
  // reader reports the error only when the outputs need the call.
  std::map<std::string, std::string> failed;
  // Node made by inlining -> "function 'F' called by node 'C'", for error messages.
  std::map<std::string, std::string> origin;
};

// Replaces every function call of gd's top-level nodes by the function body (recursively).
// The library is kept as it is. Errors only for graphs too large after inlining (node count
// and bytes copied are bounded: nested calls can multiply a body's size).
StatusOr<TfInlineResult> InlineTfFunctionCalls(dopt_tf::GraphDef* gd);

}  // namespace dopt
