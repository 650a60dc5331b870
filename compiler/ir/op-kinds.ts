/** The names of the IR's ops. ops.ts maps each to its definition; a kind added here without a
 * definition (and derivative rule) there is a compile error. */
export type OpKind =
  | "input" | "target" | "param" | "const" | "dropout_mask" | "direction"
  | "neg" | "exp" | "log" | "sqrt" | "abs" | "sign" | "tanh" | "sigmoid" | "relu" | "softplus" | "leaky_relu" | "elu" | "pow"
  | "add" | "sub" | "mul" | "div" | "max" | "min" | "gt_select" | "ge_select"
  | "matmul" | "transpose" | "outer" | "sum" | "broadcast" | "index" | "unindex" | "logsumexp"
  | "cross_entropy" | "binary_cross_entropy" | "dropout"
  | "conv2d" | "conv2d_backward_input" | "conv2d_backward_weight"
  | "maxpool" | "maxpool_backward" | "maxpool_gather" | "avgpool" | "avgpool_backward"
  | "slice" | "unslice" | "concat" | "reshape";
