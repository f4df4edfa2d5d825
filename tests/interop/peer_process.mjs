// Drives the C++ interop peer (rtc_peer.cpp) over JSON lines; bounded waits for its events.
import { spawn } from 'child_process';
import { createInterface } from 'readline';

export class PeerProcess {
  constructor(binary, args = []) {
    this.proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.events = [];
    this.waiters = [];
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let ev;
      try { ev = JSON.parse(line); } catch { console.error('peer said:', line); return; }
      ev.at = performance.now(); // when it arrived here
      if (ev.type === 'error') console.error('peer error:', ev.message);
      this.events.push(ev);
      this.waiters = this.waiters.filter((w) => !(w.pred(ev) && (w.resolve(ev), true)));
    });
    this.exited = new Promise((res) => this.proc.on('exit', (code) => res(code)));
  }
  send(obj) { this.proc.stdin.write(JSON.stringify(obj) + '\n'); }
  // Resolves with the first event (past or future) matching pred; rejects after ms.
  waitFor(pred, what, ms = 10000) {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (ev) => { clearTimeout(t); resolve(ev); } };
      const t = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== w); reject(new Error(`timed out waiting for ${what}`)); }, ms);
      this.waiters.push(w);
    });
  }
  async quit() {
    this.send({ type: 'quit' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}
