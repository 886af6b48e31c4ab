"""Exercise 4 (PyTorch): catalogued student mistakes and correct alternatives."""

from __future__ import annotations

from tests.mutants.catalogue import alternative, mutant

MUTANTS = [
    mutant(
        "no_batch_first",
        "ex04",
        "nn.RNN built without batch_first=True",
        "layout",
        "batch-first",
        (
            "                          batch_first=True, dropout=float(dropout) if"
            " num_layers > 1 else 0.0)\n"
            '        self.fc = nn.Linear(sizes["hidden_size"], sizes["output_size"])',
            "                          dropout=float(dropout) if num_layers > 1 else 0.0)\n"
            '        self.fc = nn.Linear(sizes["hidden_size"], sizes["output_size"])',
        ),
    ),
    mutant(
        "h0_batch_major",
        "ex04",
        "h0 taken and h_n returned as (N, num_layers, H), as if batch_first applied to them",
        "layout",
        "h0-layout",
        (
            '            check_shape("h0", h0, (self.rnn.num_layers, x.shape[0],'
            " self.rnn.hidden_size),",
            '            check_shape("h0", h0, (x.shape[0], self.rnn.num_layers,'
            " self.rnn.hidden_size),",
        ),
        (
            "        out, h_n = self.rnn(x, h0)\n        return self.fc(out), h_n\n",
            "        out, h_n = self.rnn(x, None if h0 is None else h0.transpose(0,"
            " 1).contiguous())\n"
            "        return self.fc(out), h_n.transpose(0, 1)\n",
        ),
    ),
    mutant(
        "wh_not_transposed",
        "ex04",
        "Exercise 1's Wh copied into weight_hh_l0 as it is (square: no error)",
        "transpose",
        "torch-weight-layout",
        ('(rnn.weight_hh_l0, params["Wh"].T)', '(rnn.weight_hh_l0, params["Wh"])'),
    ),
    mutant(
        "bias_hh_kept",
        "ex04",
        "bias_hh_l0 left at its random initial value",
        "derivative",
        "torch-two-biases",
        ("        rnn.bias_hh_l0.zero_()\n", ""),
    ),
    mutant(
        "bias_loaded_twice",
        "ex04",
        "b copied into both biases",
        "derivative",
        "torch-two-biases",
        ("        rnn.bias_hh_l0.zero_()\n", "        rnn.bias_hh_l0.copy_(rnn.bias_ih_l0)\n"),
    ),
    mutant(
        "model_left_float32",
        "ex04",
        "parameters copied into the float32 model (no model.double())",
        "dtype",
        "torch-default-float32",
        (
            "    model.double()\n    device = rnn.weight_ih_l0.device\n",
            "    device = rnn.weight_ih_l0.device\n",
        ),
        (
            "            param.copy_(torch.tensor(np.asarray(value, dtype=np.float64),"
            " device=device))",
            "            param.copy_(torch.tensor(np.asarray(value, dtype=np.float32),"
            " device=device))",
        ),
    ),
    mutant(
        "grad_b_both_biases",
        "ex04",
        "the gradient of b taken as the sum of both biases' gradients",
        "derivative",
        "torch-two-biases",
        (
            '"b": to_numpy(rnn.bias_ih_l0.grad)',
            '"b": to_numpy(rnn.bias_ih_l0.grad + rnn.bias_hh_l0.grad)',
        ),
    ),
    mutant(
        "ce_without_flattening",
        "ex04",
        "cross-entropy on (N, T, V) scores and (N, T) targets as they are",
        "layout",
        "ce-class-axis",
        (
            "    loss = nn.functional.cross_entropy(scores.reshape(N * T, V),\n"
            "                                       torch.tensor(y,"
            " dtype=torch.int64).reshape(N * T))\n",
            "    loss = nn.functional.cross_entropy(scores, torch.tensor(y, dtype=torch.int64))\n",
        ),
    ),
    mutant(
        "no_zero_grad",
        "ex04",
        "train_epoch never zeroes the gradients",
        "zero-grad",
        "zero-grad",
        (
            "        x, y = to_model(model, x), to_model(model, y)\n"
            "        optimizer.zero_grad()\n"
            "        out, _ = model(x)\n",
            "        x, y = to_model(model, x), to_model(model, y)\n        out, _ = model(x)\n",
        ),
    ),
    mutant(
        "mean_of_batch_means",
        "ex04",
        "the epoch's loss is the plain mean of the batch losses",
        "reduction",
        "loss-batch-weighting",
        (
            "        optimizer.step()\n"
            "        total += loss.item() * x.shape[0]\n"
            "        count += x.shape[0]\n",
            "        optimizer.step()\n        total += loss.item()\n        count += 1\n",
        ),
    ),
    mutant(
        "clip_before_backward",
        "ex04",
        "gradients clipped before backward() computed them",
        "clipping",
        "clip-placement",
        (
            "        loss.backward()\n"
            "        if clip is not None:\n"
            "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n"
            "        optimizer.step()\n"
            "        total += loss.item() * x.shape[0]\n",
            "        if clip is not None:\n"
            "            nn.utils.clip_grad_norm_(model.parameters(), clip)\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "        total += loss.item() * x.shape[0]\n",
        ),
    ),
    mutant(
        "no_cast_to_model",
        "ex04",
        "batches used in the dtype they come in",
        "dtype",
        "dtype-cast",
        (
            "    first = next(model.parameters())\n"
            "    if torch.is_floating_point(tensor):\n"
            "        return tensor.to(device=first.device, dtype=first.dtype)\n",
            "    first = next(model.parameters())\n"
            "    if torch.is_floating_point(tensor):\n"
            "        return tensor.to(device=first.device)\n",
        ),
    ),
    mutant(
        "evaluate_train_mode",
        "ex04",
        "evaluate without model.eval() (dropout stays on)",
        "hidden-carry",
        "eval-mode",
        (
            "    was_training = model.training\n    model.eval()\n    total, count = 0.0, 0\n",
            "    was_training = model.training\n    total, count = 0.0, 0\n",
        ),
    ),
    mutant(
        "evaluate_with_autograd",
        "ex04",
        "evaluate without torch.no_grad()",
        "zero-grad",
        "no-grad-eval",
        (
            "        with torch.no_grad():\n"
            "            for x, y in loader:\n"
            "                x, y = to_model(model, x), to_model(model, y)\n"
            "                out, _ = model(x)\n"
            "                loss = loss_fn(*outputs_for_targets(out, y))\n"
            "                total += loss.item() * x.shape[0]\n"
            "                count += x.shape[0]\n",
            "        for x, y in loader:\n"
            "            x, y = to_model(model, x), to_model(model, y)\n"
            "            out, _ = model(x)\n"
            "            loss = loss_fn(*outputs_for_targets(out, y))\n"
            "            total += loss.item() * x.shape[0]\n"
            "            count += x.shape[0]\n",
        ),
    ),
    mutant(
        "state_not_detached",
        "ex04",
        "the carried state returned with its graph",
        "hidden-carry",
        "tbptt-detach",
        ("    return loss.item(), h_n.detach()\n", "    return loss.item(), h_n\n"),
    ),
    mutant(
        "state_not_carried",
        "ex04",
        "train_stateful_epoch starts every batch from a zero state",
        "hidden-carry",
        "tbptt-carry",
        (
            "        loss, h = tbptt_step(model, x, y, h, optimizer, loss_fn, clip)\n",
            "        loss, _ = tbptt_step(model, x, y, None, optimizer, loss_fn, clip)\n",
        ),
    ),
    mutant(
        "shuffle_global_rng",
        "ex04",
        "make_loader shuffles with torch's global generator",
        "rng",
        "shuffle-generator",
        (
            "    return DataLoader(SequenceDataset(X, y), batch_size=batch_size,"
            " shuffle=bool(shuffle),\n"
            "                      generator=generator)\n",
            "    return DataLoader(SequenceDataset(X, y), batch_size=batch_size,"
            " shuffle=bool(shuffle))\n",
        ),
    ),
    mutant(
        "streams_not_interleaved",
        "ex04",
        "stream_loader keeps the chunks of one stream in consecutive rows",
        "layout",
        "stream-continuity",
        (
            "        return a.reshape(batch_size, K, seq_len).transpose(1, 0,"
            " 2).reshape(K * batch_size,\n",
            "        return a.reshape(batch_size, K, seq_len).reshape(K * batch_size,\n",
        ),
    ),
    mutant(
        "tbptt_no_zero_grad",
        "ex04",
        "tbptt_step never zeroes the gradients",
        "zero-grad",
        "zero-grad",
        ("    optimizer.zero_grad()\n    out, h_n = model(x, h)\n", "    out, h_n = model(x, h)\n"),
    ),
    mutant(
        "no_optimizer_step",
        "ex04",
        "train_epoch computes gradients but never calls optimizer.step()",
        "optimizer",
        "optimizer-step",
        (
            "        optimizer.step()\n        total += loss.item() * x.shape[0]\n",
            "        total += loss.item() * x.shape[0]\n",
        ),
    ),
    mutant(
        "evaluate_mean_of_batch_means",
        "ex04",
        "evaluate returns the plain mean of the batch losses",
        "reduction",
        "loss-batch-weighting",
        (
            "                total += loss.item() * x.shape[0]\n"
            "                count += x.shape[0]\n",
            "                total += loss.item()\n                count += 1\n",
        ),
    ),
    mutant(
        "forward_without_validation",
        "ex04",
        "RNNModel.forward checks nothing: nn.RNN's own RuntimeError for a bad x or h0",
        "validation",
        None,
        (
            '        check_shape("x", x, (None, None, self.rnn.input_size), "(N, T, input_size)")\n'
            "        if h0 is not None:\n"
            '            check_shape("h0", h0, (self.rnn.num_layers, x.shape[0],'
            ' self.rnn.hidden_size),\n'
            '                        "(num_layers, N, hidden_size)")\n'
            "        out, h_n = self.rnn(x, h0)\n",
            "        out, h_n = self.rnn(x, h0)\n",
        ),
        no_id_because="a missing check is no misconception: the test says which argument "
                      "must be named",
    ),
    mutant(
        "params_share_memory",
        "ex04",
        "load_numpy_params puts torch.from_numpy views of the arrays into the model",
        "mutation",
        "torch-shared-memory",
        (
            "            param.copy_(torch.tensor(np.asarray(value, dtype=np.float64),"
            " device=device))",
            "            param.data = torch.from_numpy(value)",
        ),
    ),
]

ALTERNATIVES = [
    alternative(
        "independent_rewrite",
        "ex04",
        "written from scratch: a state dict with b split between the biases, "
        "autograd.grad, inference_mode",
        fixture="alt_ex04",
    ),
    alternative(
        "load_as_new_parameters",
        "ex04",
        "new nn.Parameters assigned instead of copy_ under no_grad",
        (
            "    with torch.no_grad():\n"
            '        for param, value in ((rnn.weight_ih_l0, params["Wx"].T), '
            '(rnn.weight_hh_l0, params["Wh"].T),\n'
            '                             (rnn.bias_ih_l0, params["b"]), '
            '(model.fc.weight, params["Wy"].T),\n'
            '                             (model.fc.bias, params["by"])):\n'
            "            param.copy_(torch.tensor(np.asarray(value, dtype=np.float64), "
            "device=device))\n"
            "        rnn.bias_hh_l0.zero_()\n",
            "    def new(value):\n"
            "        return nn.Parameter(torch.tensor(np.array(value, dtype=np.float64), "
            "device=device))\n\n"
            '    rnn.weight_ih_l0, rnn.weight_hh_l0 = new(params["Wx"].T), '
            'new(params["Wh"].T)\n'
            '    rnn.bias_ih_l0, rnn.bias_hh_l0 = new(params["b"]), new(np.zeros(H))\n'
            '    model.fc.weight, model.fc.bias = new(params["Wy"].T), new(params["by"])\n',
        ),
    ),
    alternative(
        "evaluate_stays_in_eval_mode",
        "ex04",
        "evaluate leaves the model in eval mode (the contract allows either)",
        ("    finally:\n        model.train(was_training)\n", "    finally:\n        pass\n"),
    ),
    alternative(
        "gradients_set_to_none",
        "ex04",
        "gradients cleared with model.zero_grad(set_to_none=True)",
        (
            "        optimizer.zero_grad()\n        out, _ = model(x)\n",
            "        model.zero_grad(set_to_none=True)\n        out, _ = model(x)\n",
        ),
    ),
    alternative(
        "stream_loader_of_ready_batches",
        "ex04",
        "stream_loader: a DataLoader over a list of the K ready (inputs, targets) batches, "
        "batch_size=None",
        (
            "    def chunk_major(a):\n"
            "        return a.reshape(batch_size, K, seq_len).transpose(1, 0, 2).reshape(K * "
            "batch_size,\n"
            "                                                                             "
            "seq_len)\n\n"
            "    return make_loader(chunk_major(inputs), chunk_major(targets), batch_size, "
            "shuffle=False)\n",
            "    chunks = [slice(k * seq_len, (k + 1) * seq_len) for k in range(K)]\n"
            "    return DataLoader([(torch.tensor(inputs[:, c]), torch.tensor(targets[:, c])) "
            "for c in chunks],\n"
            "                      batch_size=None)\n",
        ),
    ),
    alternative(
        "make_loader_with_a_sampler",
        "ex04",
        "make_loader shuffles with a RandomSampler on its own seeded generator",
        (
            "    return DataLoader(SequenceDataset(X, y), batch_size=batch_size, "
            "shuffle=bool(shuffle),\n"
            "                      generator=generator)\n",
            "    dataset = SequenceDataset(X, y)\n"
            "    sampler = torch.utils.data.RandomSampler(dataset, generator=generator) if "
            "shuffle else None\n"
            "    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)\n",
        ),
    ),
]
