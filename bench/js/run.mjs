// The workloads of WORKLOADS.md (js-reactivity-benchmark: kairo, molBench,
// cellx, dynamic graphs), and sBench's fan-in workloads (see ../fanin.go),
// on alien-signals, @preact/signals-core and signal-polyfill, with the same
// checksums, reference counts and timing protocol as the Go port in ../
// (package bench). Prints JSON on stdout, progress on stderr; cmd/compare
// reads it.
//
//   node --expose-gc run.mjs [--samples 5] [--only REGEXP] [--libs alien,preact,tc39]

import { readFileSync } from "node:fs";
import * as alien from "alien-signals";
import * as preact from "@preact/signals-core";
import { Signal } from "signal-polyfill";

if (typeof globalThis.gc !== "function") {
  console.error("run.mjs: start node with --expose-gc");
  process.exit(2);
}
const gc = globalThis.gc;

function version(pkg) {
  const url = new URL(`./node_modules/${pkg}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).version;
}

// ---------------------------------------------------------------------------
// Frameworks: signal(v) -> {read(), write(v)}, computed(fn) -> {read()},
// effect(fn) -> dispose(), batch(fn). Effects flush before batch returns.

const alienFw = {
  name: "alien-signals",
  pkg: "alien-signals",
  signal(v) {
    const s = alien.signal(v);
    return { read: () => s(), write: (x) => s(x) };
  },
  computed(fn) {
    const c = alien.computed(fn);
    return { read: () => c() };
  },
  effect(fn) {
    return alien.effect(() => {
      fn();
    });
  },
  batch(fn) {
    alien.startBatch();
    try {
      fn();
    } finally {
      alien.endBatch();
    }
  },
};

const preactFw = {
  name: "preact",
  pkg: "@preact/signals-core",
  signal(v) {
    const s = preact.signal(v);
    return {
      read: () => s.value,
      write: (x) => {
        s.value = x;
      },
    };
  },
  computed(fn) {
    const c = preact.computed(fn);
    return { read: () => c.value };
  },
  effect(fn) {
    return preact.effect(() => {
      fn();
    });
  },
  batch: (fn) => preact.batch(fn),
};

// signal-polyfill has no effects: an effect is a Computed watched by a
// Watcher, and the pending ones are pulled when the outermost batch ends.
let tc39Depth = 0;
let tc39Dirty = false;
const tc39Watcher = new Signal.subtle.Watcher(() => {
  tc39Dirty = true;
});
function tc39Flush() {
  while (tc39Dirty) {
    tc39Dirty = false;
    for (const c of tc39Watcher.getPending()) c.get();
    tc39Watcher.watch();
  }
}
const tc39Fw = {
  name: "tc39-polyfill",
  pkg: "signal-polyfill",
  signal(v) {
    const s = new Signal.State(v);
    return { read: () => s.get(), write: (x) => s.set(x) };
  },
  computed(fn) {
    const c = new Signal.Computed(fn);
    return { read: () => c.get() };
  },
  effect(fn) {
    const c = new Signal.Computed(() => {
      fn();
    });
    tc39Watcher.watch(c);
    c.get();
    return () => tc39Watcher.unwatch(c);
  },
  batch(fn) {
    tc39Depth++;
    try {
      fn();
    } finally {
      tc39Depth--;
      if (tc39Depth === 0) tc39Flush();
    }
  },
};

const frameworks = { alien: alienFw, preact: preactFw, tc39: tc39Fw };

// ---------------------------------------------------------------------------
// Workloads. build(fw) returns {n: {computed, effects}, step(), dispose()};
// step() throws on a wrong value.

function check(what, got, want) {
  if (got !== want) throw new Error(`${what} = ${got}, want ${want}`);
}

let busySink = 0;
let busyN = 100;
function busy() {
  let a = 0;
  for (let i = 0; i < busyN; i++) a++;
  busySink = a;
}

function fib(n) {
  return n < 2 ? 1 : fib(n - 1) + fib(n - 2);
}
const hard = (n) => n + fib(16);

function kairoGraph(fw) {
  const g = { n: { computed: 0, effects: 0 }, sink: 0, counter: 0, effects: [] };
  g.effect = (fn) => g.effects.push(fw.effect(fn));
  g.dispose = () => {
    for (const d of g.effects) d();
    g.effects = [];
  };
  return g;
}

const kairo = {
  avoidablePropagation: {
    build: [5, 1], step: [2002, 0], writes: 1001,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      const c1 = fw.computed(() => (g.n.computed++, head.read()));
      const c2 = fw.computed(() => (g.n.computed++, c1.read(), 0));
      const c3 = fw.computed(() => {
        g.n.computed++;
        busy();
        return c2.read() + 1;
      });
      const c4 = fw.computed(() => (g.n.computed++, c3.read() + 2));
      const c5 = fw.computed(() => (g.n.computed++, c4.read() + 3));
      g.effect(() => {
        g.n.effects++;
        g.sink += c5.read();
        busy();
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        let v = c5.read();
        check("c5", v, 6);
        cs += v;
        for (let i = 0; i < 1000; i++) {
          fw.batch(() => head.write(i));
          v = c5.read();
          check("c5", v, 6);
          cs += v;
        }
        check("checksum", cs + g.sink, 6006);
      };
      return g;
    },
  },
  broadPropagation: {
    build: [100, 50], step: [5100, 2550], writes: 51,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      let last;
      for (let i = 0; i < 50; i++) {
        const a = fw.computed(() => (g.n.computed++, head.read() + i));
        const b = fw.computed(() => (g.n.computed++, a.read() + 1));
        g.effect(() => {
          g.n.effects++;
          g.sink += b.read();
          g.counter++;
        });
        last = b;
      }
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        g.counter = 0;
        for (let i = 0; i < 50; i++) {
          fw.batch(() => head.write(i));
          const v = last.read();
          check("last", v, i + 50);
          cs += v;
        }
        check("effect runs", g.counter, 2500);
        check("checksum", cs + g.sink, 130050);
      };
      return g;
    },
  },
  deepPropagation: {
    build: [50, 1], step: [2550, 51], writes: 51,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      let cur = head;
      for (let i = 0; i < 50; i++) {
        const prev = cur;
        cur = fw.computed(() => (g.n.computed++, prev.read() + 1));
      }
      const tail = cur;
      g.effect(() => {
        g.n.effects++;
        g.sink += tail.read();
        g.counter++;
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        g.counter = 0;
        for (let i = 0; i < 50; i++) {
          fw.batch(() => head.write(i));
          const v = tail.read();
          check("tail", v, 50 + i);
          cs += v;
        }
        check("effect runs", g.counter, 50);
        check("checksum", cs + g.sink, 7501);
      };
      return g;
    },
  },
  diamond: {
    build: [6, 1], step: [3006, 501], writes: 501,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      const d = [];
      for (let i = 0; i < 5; i++) d.push(fw.computed(() => (g.n.computed++, head.read() + 1)));
      const sum = fw.computed(() => {
        g.n.computed++;
        let s = 0;
        for (const x of d) s += x.read();
        return s;
      });
      g.effect(() => {
        g.n.effects++;
        g.sink += sum.read();
        g.counter++;
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        let v = sum.read();
        check("sum", v, 10);
        cs += v;
        g.counter = 0;
        for (let i = 0; i < 500; i++) {
          fw.batch(() => head.write(i));
          v = sum.read();
          check("sum", v, (i + 1) * 5);
          cs += v;
        }
        check("effect runs", g.counter, 500);
        check("checksum", cs + g.sink, 1252520);
      };
      return g;
    },
  },
  mux: {
    build: [201, 100], step: [1836, 18], writes: 20,
    make(fw) {
      const g = kairoGraph(fw);
      const heads = [];
      for (let i = 0; i < 100; i++) heads.push(fw.signal(0));
      const mux = fw.computed(() => {
        g.n.computed++;
        const vs = new Array(heads.length);
        for (let i = 0; i < heads.length; i++) vs[i] = heads[i].read();
        return vs;
      });
      const s1 = [];
      for (let i = 0; i < 100; i++) s1.push(fw.computed(() => (g.n.computed++, mux.read()[i])));
      const s2 = s1.map((x) => fw.computed(() => (g.n.computed++, x.read() + 1)));
      for (const x of s2) {
        g.effect(() => {
          g.n.effects++;
          g.sink += x.read();
        });
      }
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        for (let i = 0; i < 10; i++) {
          fw.batch(() => heads[i].write(i));
          const v = s2[i].read();
          check("s2", v, i + 1);
          cs += v;
        }
        for (let i = 0; i < 10; i++) {
          fw.batch(() => heads[i].write(2 * i));
          const v = s2[i].read();
          check("s2", v, 2 * i + 1);
          cs += v;
        }
        check("checksum", cs + g.sink, 308);
      };
      return g;
    },
  },
  repeatedObservers: {
    build: [1, 1], step: [101, 101], writes: 101,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      const current = fw.computed(() => {
        g.n.computed++;
        let r = 0;
        for (let i = 0; i < 30; i++) r += head.read();
        return r;
      });
      g.effect(() => {
        g.n.effects++;
        g.sink += current.read();
        g.counter++;
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        let v = current.read();
        check("current", v, 30);
        cs += v;
        g.counter = 0;
        for (let i = 0; i < 100; i++) {
          fw.batch(() => head.write(i));
          v = current.read();
          check("current", v, 30 * i);
          cs += v;
        }
        check("effect runs", g.counter, 100);
        check("checksum", cs + g.sink, 297060);
      };
      return g;
    },
  },
  triangle: {
    build: [10, 1], step: [1010, 101], writes: 101,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      let cur = head;
      const list = [];
      for (let i = 0; i < 10; i++) {
        list.push(cur);
        const prev = cur;
        cur = fw.computed(() => (g.n.computed++, prev.read() + 1));
      }
      const sum = fw.computed(() => {
        g.n.computed++;
        let s = 0;
        for (const x of list) s += x.read();
        return s;
      });
      g.effect(() => {
        g.n.effects++;
        g.sink += sum.read();
        g.counter++;
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        let v = sum.read();
        check("sum", v, 55);
        cs += v;
        g.counter = 0;
        for (let i = 0; i < 100; i++) {
          fw.batch(() => head.write(i));
          v = sum.read();
          check("sum", v, 45 + 10 * i);
          cs += v;
        }
        check("effect runs", g.counter, 100);
        check("checksum", cs + g.sink, 108110);
      };
      return g;
    },
  },
  unstable: {
    build: [2, 1], step: [202, 101], writes: 101,
    make(fw) {
      const g = kairoGraph(fw);
      const head = fw.signal(0);
      const double = fw.computed(() => (g.n.computed++, head.read() * 2));
      const inverse = fw.computed(() => (g.n.computed++, -head.read()));
      const current = fw.computed(() => {
        g.n.computed++;
        let r = 0;
        for (let i = 0; i < 20; i++) r += head.read() % 2 ? double.read() : inverse.read();
        return r;
      });
      g.effect(() => {
        g.n.effects++;
        g.sink += current.read();
        g.counter++;
      });
      g.step = () => {
        g.sink = 0;
        let cs = 0;
        fw.batch(() => head.write(1));
        const v = current.read();
        check("current", v, 40);
        cs += v;
        g.counter = 0;
        for (let i = 0; i < 100; i++) fw.batch(() => head.write(i));
        check("effect runs", g.counter, 100);
        check("checksum", cs + g.sink, 51080);
      };
      return g;
    },
  },
  molBench: {
    build: [5, 3], step: [9, 4], writes: 4,
    make(fw) {
      const g = kairoGraph(fw);
      let res = [];
      const A = fw.signal(0);
      const B = fw.signal(0);
      const C = fw.computed(() => (g.n.computed++, (A.read() % 2) + (B.read() % 2)));
      const D = fw.computed(() => {
        g.n.computed++;
        const rs = new Array(5);
        for (let k = 0; k < 5; k++) rs[k] = { x: k + (A.read() % 2) - (B.read() % 2) };
        return rs;
      });
      const E = fw.computed(() => (g.n.computed++, hard(C.read() + A.read() + D.read()[0].x)));
      const F = fw.computed(() => {
        g.n.computed++;
        const x = D.read()[2].x;
        return hard(x !== 0 ? x : B.read());
      });
      const G = fw.computed(() => {
        g.n.computed++;
        let r = C.read();
        const c = C.read();
        r += c !== 0 ? c : E.read() % 2;
        r += D.read()[4].x;
        return r + F.read();
      });
      g.effect(() => {
        g.n.effects++;
        res.push(hard(G.read()));
      });
      g.effect(() => {
        g.n.effects++;
        res.push(G.read());
      });
      g.effect(() => {
        g.n.effects++;
        res.push(hard(F.read()));
      });
      let i = 0;
      g.step = () => {
        i++;
        res = [];
        fw.batch(() => {
          B.write(1);
          A.write(1 + 2 * i);
        });
        fw.batch(() => {
          A.write(2 + 2 * i);
          B.write(2);
        });
        check("res.length", res.length, 4);
        let cs = 0;
        for (const v of res) cs += v;
        check("checksum", cs, 9616);
      };
      return g;
    },
  },
};

function cellx(layers) {
  const n = 4 * layers;
  return {
    kind: "cellx", build: [n, n], step: [n, n], writes: 4,
    make(fw) {
      const counts = { computed: 0, effects: 0 };
      const effects = [];
      const start = [fw.signal(1), fw.signal(2), fw.signal(3), fw.signal(4)];
      let layer = start;
      for (let i = 0; i < layers; i++) {
        const m = layer;
        const s = [
          fw.computed(() => (counts.computed++, m[1].read())),
          fw.computed(() => (counts.computed++, m[0].read() - m[2].read())),
          fw.computed(() => (counts.computed++, m[1].read() + m[3].read())),
          fw.computed(() => (counts.computed++, m[2].read())),
        ];
        for (const x of s) {
          effects.push(
            fw.effect(() => {
              counts.effects++;
              x.read();
            }),
          );
        }
        layer = s;
      }
      const end = layer;
      return {
        n: counts,
        step() {
          const before = end.map((x) => x.read());
          fw.batch(() => {
            start[0].write(4);
            start[1].write(3);
            start[2].write(2);
            start[3].write(1);
          });
          const after = end.map((x) => x.read());
          check("before", before.join(","), "-3,-6,-2,2");
          check("after", after.join(","), "-2,-4,2,3");
        },
        dispose() {
          for (const d of effects) d();
        },
      };
    },
  };
}

// --- dynamic graphs ---------------------------------------------------------

function xmur3a(str) {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < str.length; i++) {
    let k = Math.imul(str.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= str.length;
  return () => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

function sfc32(a, b, c, d) {
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function pseudoRandom(seed) {
  const h = xmur3a(seed);
  return sfc32(h(), h(), h(), h());
}

const dynamicConfigs = [
  ["2-10x5 - lazy80%", 10, 5, 1, 2, 0.2, 600000, 19199968, 3480000, 480000, [19, 1]],
  ["6-10x10 - dyn25% - lazy80%", 10, 10, 0.75, 6, 0.2, 15000, 302310782860, 1155000, 15000, [81, 1]],
  ["4-1000x12 - dyn5%", 1000, 12, 0.95, 4, 1, 7000, 29355933696000, 1463000, 7000, [11000, 1]],
  ["25-1000x5", 1000, 5, 1, 25, 1, 3000, 1171484375000, 732000, 3000, [4000, 1]],
  ["3-5x500", 5, 500, 1, 3, 1, 500, 3.0239642676898464e241, 1246500, 500, [2495, 1]],
  ["6-100x15 - dyn50%", 100, 15, 0.5, 6, 1, 2000, 15664996402790400, 1078000, 2000, [1400, 1]],
];

function dynamic([title, W, T, S, N, R, I, sum, count, effects, build]) {
  return {
    name: title, kind: "dynamic", build, step: [count, effects], writes: I,
    make(fw) {
      const counts = { computed: 0, effects: 0 };
      const sources = [];
      for (let i = 0; i < W; i++) sources.push(fw.signal(i));
      const rand = pseudoRandom("seed");
      let prev = sources;
      for (let l = 0; l < T - 1; l++) {
        const row = [];
        for (let myDex = 0; myDex < W; myDex++) {
          const my = [];
          for (let k = 0; k < N; k++) my.push(prev[(myDex + k) % W]);
          if (rand() < S) {
            row.push(
              fw.computed(() => {
                counts.computed++;
                let s = 0;
                for (let k = 0; k < my.length; k++) s += my[k].read();
                return s;
              }),
            );
          } else {
            const first = my[0];
            const tail = my.slice(1);
            row.push(
              fw.computed(() => {
                counts.computed++;
                let s = first.read();
                const drop = s % 2 !== 0;
                const dropDex = s % tail.length;
                for (let k = 0; k < tail.length; k++) {
                  if (drop && k === dropDex) continue;
                  s += tail[k].read();
                }
                return s;
              }),
            );
          }
        }
        prev = row;
      }
      const leaves = prev;
      const skip = Math.round(W * (1 - R));
      const rand2 = pseudoRandom("seed");
      const readLeaves = leaves.slice();
      for (let i = 0; i < skip; i++) readLeaves.splice(Math.floor(rand2() * readLeaves.length), 1);
      const stop = fw.effect(() => {
        counts.effects++;
        for (const l of readLeaves) l.read();
      });
      return {
        n: counts,
        step() {
          for (let i = 0; i < I; i++) {
            fw.batch(() => {
              const d = i % W;
              sources[d].write(i + d);
            });
            for (const l of readLeaves) l.read();
          }
          let s = 0;
          for (const l of readLeaves) s = l.read() + s;
          check("sum", s, sum);
        },
        dispose: stop,
      };
    },
  };
}

// --- fan-in (sBench.ts create1000to1 and update1000to1) --------------------
// Sources built and read three times untimed; timed: creating the effects,
// the writes (each in its own batch, so that every library flushes them
// alike) and disposing of the effects. One step per sample, on fresh sources.

const SBENCH_COUNT = 100000;
const FAN_IN = 1000;

function fanInSources(fw, count) {
  const s = new Array(count);
  for (let i = 0; i < count; i++) s[i] = fw.signal(i);
  for (let i = 0; i < count; i++) {
    s[i].read();
    s[i].read();
    s[i].read();
  }
  return s;
}

const fanIn = {
  create1000to1: {
    build: [0, 0], step: [0, SBENCH_COUNT / FAN_IN], writes: 0,
    make(fw) {
      const n = SBENCH_COUNT / FAN_IN;
      const counts = { computed: 0, effects: 0 };
      const sources = fanInSources(fw, SBENCH_COUNT);
      return {
        n: counts,
        step() {
          const sums = new Array(n).fill(0);
          const disposers = [];
          for (let j = 0; j < n; j++) {
            const off = j * FAN_IN;
            disposers.push(
              fw.effect(() => {
                counts.effects++;
                let sum = 0;
                for (let i = 0; i < FAN_IN; i++) sum += sources[off + i].read();
                sums[j] = sum;
              }),
            );
          }
          for (const d of disposers) d();
          let total = 0;
          for (const s of sums) total += s;
          check("sum of the effects' sums", total, (SBENCH_COUNT * (SBENCH_COUNT - 1)) / 2);
        },
        dispose() {},
      };
    },
  },
  update1000to1: {
    build: [0, 0], step: [0, SBENCH_COUNT / 250], writes: SBENCH_COUNT / 250,
    make(fw) {
      const writes = SBENCH_COUNT / 250;
      const counts = { computed: 0, effects: 0 };
      const sources = fanInSources(fw, FAN_IN);
      return {
        n: counts,
        step() {
          let last = 0;
          const dispose = fw.effect(() => {
            counts.effects++;
            let sum = 0;
            for (let i = 0; i < FAN_IN; i++) sum += sources[i].read();
            last = sum;
          });
          for (let i = 0; i < writes; i++) fw.batch(() => sources[0].write(i));
          dispose();
          check("the effect's last sum", last, (FAN_IN * (FAN_IN - 1)) / 2 + writes - 1);
        },
        dispose() {},
      };
    },
  },
};

const workloads = [];
for (const [name, w] of Object.entries(kairo)) workloads.push({ name, kind: "iter", ...w });
workloads.push({ name: "cellx1000", ...cellx(1000) });
workloads.push({ name: "cellx2500", ...cellx(2500) });
for (const c of dynamicConfigs) workloads.push(dynamic(c));
for (const [name, w] of Object.entries(fanIn)) workloads.push({ name, kind: "fanin", ...w });

// ---------------------------------------------------------------------------
// Protocol (WORKLOADS.md §2).

const ITER_STEPS = 500;
const CELLX_UPDATES = 10;
const WARMUP_CAP = 3000;
const SAMPLES_CAP = 15000;

function measure(fw, w, nSamples) {
  const res = { samples: [], computed: 0, effects: 0, countsOK: true };
  const note = (n, steps) => {
    res.computed = n.computed / steps;
    res.effects = n.effects / steps;
    if (res.computed !== w.step[0] || res.effects !== w.step[1]) res.countsOK = false;
  };
  let sample, warmup, done;
  if (w.kind === "iter") {
    const g = w.make(fw);
    check(`${w.name} build`, `${g.n.computed}/${g.n.effects}`, w.build.join("/"));
    done = () => g.dispose();
    sample = () => {
      gc();
      g.n.computed = g.n.effects = 0;
      const t0 = performance.now();
      for (let i = 0; i < ITER_STEPS; i++) g.step();
      const t = performance.now() - t0;
      note(g.n, ITER_STEPS);
      return t;
    };
    warmup = () => {
      for (let i = 0; i < 3; i++) g.step();
      sample();
    };
  } else if (w.kind === "cellx" || w.kind === "fanin") {
    // A fresh graph per step: 10 cellx updates, or one fan-in run.
    const steps = w.kind === "cellx" ? CELLX_UPDATES : 1;
    sample = () => {
      let total = 0;
      for (let i = 0; i < steps; i++) {
        const g = w.make(fw);
        g.n.computed = g.n.effects = 0;
        gc();
        const t0 = performance.now();
        g.step();
        total += performance.now() - t0;
        note(g.n, 1);
        g.dispose();
      }
      return total;
    };
    warmup = () => sample();
  } else {
    const g = w.make(fw);
    check(`${w.name} build`, `${g.n.computed}/${g.n.effects}`, w.build.join("/"));
    done = () => g.dispose();
    const run = () => {
      gc();
      g.n.computed = g.n.effects = 0;
      const t0 = performance.now();
      g.step();
      return performance.now() - t0;
    };
    sample = () => {
      const t = run();
      note(g.n, 1);
      return t;
    };
    warmup = () => {
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) {
        run();
        if (performance.now() - t0 >= WARMUP_CAP) break;
      }
    };
  }
  try {
    warmup();
    res.countsOK = true;
    let used = 0;
    for (let i = 0; i < nSamples; i++) {
      const t = sample();
      res.samples.push(t);
      used += t;
      if (used >= SAMPLES_CAP) break;
    }
  } finally {
    if (done) done();
  }
  const s = res.samples.slice().sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)],
    min: s[0],
    max: s[s.length - 1],
    samples: s.length,
    computed: res.computed,
    effects: res.effects,
    countsOK: res.countsOK,
  };
}

// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { samples: 5, only: null, libs: ["alien", "preact", "tc39"] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--samples") o.samples = Number(argv[++i]);
    else if (a === "--only") o.only = new RegExp(argv[++i]);
    else if (a === "--libs") o.libs = argv[++i].split(",");
    else {
      console.error(`run.mjs: unknown argument ${a}`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const out = { node: process.version, libraries: [] };
let failed = false;
for (const key of opts.libs) {
  const fw = frameworks[key];
  if (!fw) {
    console.error(`run.mjs: unknown library ${key}`);
    process.exit(2);
  }
  const lib = { name: fw.name, version: version(fw.pkg), results: {} };
  for (const w of workloads) {
    if (opts.only && !opts.only.test(w.name)) continue;
    process.stderr.write(`${fw.name}: ${w.name} ...`);
    try {
      const r = measure(fw, w, opts.samples);
      lib.results[w.name] = r;
      process.stderr.write(` ${r.median.toFixed(1)}${r.countsOK ? "" : ` (counts ${r.computed}/${r.effects})`}\n`);
    } catch (e) {
      failed = true;
      lib.results[w.name] = { error: String(e && e.message ? e.message : e) };
      process.stderr.write(` FAILED: ${e && e.stack ? e.stack : e}\n`);
    }
  }
  out.libraries.push(lib);
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
if (failed) process.exitCode = 1;
