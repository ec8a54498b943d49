// Replays breakerlab's seeded call traces through the real opossum or cockatiel under
// fake timers (@sinonjs/fake-timers: Date, setTimeout, setInterval), one process for all
// traces. Reads {library, traces: [{params, events}]} as JSON on stdin; writes, per trace,
// one observation per event: [calls whose action ran, calls refused, state, openings].
// An event is [ms, "call", id] or [ms, "settle", pick, outcome]: the running call at
// floor(pick x running), in the order they started, ends; outcome "success" resolves its
// action, a failure category rejects it with an Error carrying that category.
// Used by tests/test_node_differential.py.
'use strict';

const FakeTimers = require('@sinonjs/fake-timers');
const realSetImmediate = setImmediate;
const flush = () => new Promise(resolve => realSetImmediate(resolve));
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'];

function failure (category) {
  const error = new Error(category);
  error.category = category;
  return error;
}

// Each library behind the same three functions: call(id), state(), close().
function opossum (params, action, onRefused) {
  const CircuitBreaker = require('opossum');
  const breaker = new CircuitBreaker(action, {
    timeout: false,
    errorThresholdPercentage: params.errorThresholdPercentage,
    volumeThreshold: params.volumeThreshold,
    resetTimeout: params.resetTimeout,
    rollingCountTimeout: params.rollingCountTimeout,
    rollingCountBuckets: params.rollingCountBuckets,
    allowWarmUp: params.allowWarmUp,
    errorFilter: error => params.errorFilter.includes(error.category)
  });
  let openings = 0;
  breaker.on('open', () => { openings += 1; });
  return {
    call: id => breaker.fire(id).catch(error => {
      if (CircuitBreaker.isOurError(error)) onRefused(id);
    }),
    state: () => breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed',
    openings: () => openings,
    close: () => breaker.shutdown()
  };
}

function cockatiel (params, action, onRefused) {
  const c = require('cockatiel');
  const breaker = params.breaker === 'sampling'
    ? new c.SamplingBreaker({
      threshold: params.threshold,
      duration: params.duration,
      minimumRps: params.minimumRps ?? undefined
    })
    : new c.ConsecutiveBreaker(params.threshold);
  const halfOpenAfter = params.backoff === 'exponential'
    ? new c.ExponentialBackoff({
      initialDelay: params.halfOpenAfter,
      maxDelay: params.maxDelay,
      generator: c.noJitterGenerator
    })
    : params.halfOpenAfter;
  const policy = c.circuitBreaker(
    c.handleWhen(error => params.handle.includes(error.category)),
    { halfOpenAfter, breaker }
  );
  let openings = 0;
  policy.onBreak(() => { openings += 1; });
  const names = { [c.CircuitState.Closed]: 'closed', [c.CircuitState.Open]: 'open', [c.CircuitState.HalfOpen]: 'half_open', [c.CircuitState.Isolated]: 'forced_open' };
  return {
    call: id => policy.execute(() => action(id)).catch(error => {
      if (c.isBrokenCircuitError(error)) onRefused(id);
    }),
    state: () => names[policy.state],
    openings: () => openings,
    close: () => {}
  };
}

const LIBRARIES = { opossum, cockatiel };

async function replay (library, trace) {
  const clock = FakeTimers.install({ now: 0, toFake: FAKED });
  const pending = new Map();
  let ran = [];
  let refused = [];
  const action = id => {
    ran.push(id);
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  };
  const breaker = LIBRARIES[library](trace.params, action, id => refused.push(id));
  const observed = [];
  try {
    for (const [ms, kind, id, outcome] of trace.events) {
      clock.tick(ms - clock.now);
      ran = [];
      refused = [];
      if (kind === 'call') {
        breaker.call(id);
      } else {
        const running = [...pending.keys()];
        if (running.length) {
          const call = running[Math.floor(id * running.length)];
          const { resolve, reject } = pending.get(call);
          pending.delete(call);
          if (outcome === 'success') resolve(call); else reject(failure(outcome));
        }
      }
      await flush();
      // Refusals in call order: a held call's rejection settles a few promise hops later
      // than a fresh call's, so their arrival order says nothing about the breaker.
      refused.sort((a, b) => a - b);
      observed.push([ran, refused, breaker.state(), breaker.openings()]);
    }
  } finally {
    breaker.close();
    clock.uninstall();
  }
  return observed;
}

async function main () {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const trace of request.traces) results.push(await replay(request.library, trace));
  process.stdout.write(JSON.stringify(results));
}

main().catch(error => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
