#!/usr/bin/env python3
"""Write tests/data/torch_ref.safetensors: PyTorch's values for a small MLP and a small conv net, which
tests/test_torch_ref.c recomputes with libnis (as llm.c's test_gpt2 does against PyTorch's saved state).

Run by hand with Debian's python3-torch: /usr/bin/python3 bench/make_torch_ref.py
The safetensors file is written with the standard library (json + struct), so no extra package is needed.
Contents (all float32):
  mlp.*       Linear(3,8) SiLU Linear(8,8) Tanh Linear(8,2); x (4,3), t (4,2); loss = mean((mlp(x) - t)^2)
              weights before, loss, grads of weights, dloss/dx, the Hessian-vector product d(<dloss/dx, v>)/dx,
              and the weights after one Adam step (lr 1e-2, weight decay 1e-3)
  conv.*      Conv2d(1,2,3,s1,p1) SiLU ConvTranspose2d(2,1,4,s2,p1) on x (2,1,6,6); loss = sum(out^2);
              weights, loss, grads
"""
import json
import struct
import sys

import torch

torch.manual_seed(1234)
out = {}


def put(name, t):
    out[name] = t.detach().clone().contiguous().float()   # a copy: later in-place updates must not leak in


# ---- MLP ----
mlp = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.SiLU(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                          torch.nn.Linear(8, 2))
names = {"0": "fc1", "2": "fc2", "4": "fc3"}
x = torch.randn(4, 3, requires_grad=True)
t = torch.randn(4, 2)
v = torch.randn(4, 3)
for k, p in mlp.named_parameters():
    idx, kind = k.split(".")
    put(f"mlp.{names[idx]}.{kind}", p)
put("mlp.x", x)
put("mlp.t", t)
put("mlp.v", v)
loss = ((mlp(x) - t) ** 2).mean()
gx, = torch.autograd.grad(loss, x, create_graph=True)
hv, = torch.autograd.grad((gx * v).sum(), x, retain_graph=True)
loss.backward()
put("mlp.loss", loss.reshape(()))
put("mlp.dx", gx)
put("mlp.hvp", hv)
for k, p in mlp.named_parameters():
    idx, kind = k.split(".")
    put(f"mlp.grad.{names[idx]}.{kind}", p.grad)
opt = torch.optim.Adam(mlp.parameters(), lr=1e-2, weight_decay=1e-3)
opt.step()
for k, p in mlp.named_parameters():
    idx, kind = k.split(".")
    put(f"mlp.after.{names[idx]}.{kind}", p)

# ---- conv ----
conv = torch.nn.Conv2d(1, 2, 3, 1, 1)
convt = torch.nn.ConvTranspose2d(2, 1, 4, 2, 1)
xc = torch.randn(2, 1, 6, 6)
put("conv.x", xc)
for name, m in (("c1", conv), ("c2", convt)):
    put(f"conv.{name}.weight", m.weight)
    put(f"conv.{name}.bias", m.bias)
y = convt(torch.nn.functional.silu(conv(xc)))
lc = (y ** 2).sum()
lc.backward()
put("conv.loss", lc.reshape(()))
for name, m in (("c1", conv), ("c2", convt)):
    put(f"conv.grad.{name}.weight", m.weight.grad)
    put(f"conv.grad.{name}.bias", m.bias.grad)

# ---- safetensors by hand ----
header, blobs, off = {}, [], 0
for name in sorted(out):
    b = out[name].numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(out[name].shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
header["__metadata__"] = {"producer": f"torch {torch.__version__}", "script": "bench/make_torch_ref.py"}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_ref.safetensors"
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(f"wrote {path}: {len(out)} tensors")
