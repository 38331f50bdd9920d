import type { ChildProcess } from 'node:child_process'

/** What a bench child process says over IPC: a typed message, or that it failed. */
export type ChildMessage = { type: string } | { type: 'failed'; message: string }

/**
 * The next IPC message of `type` from `child`; rejects if the child reports `failed`, exits, or says
 * nothing of the kind within `timeoutMs`. `label` names the child in errors, `context` adds its
 * latest output to them.
 */
export function nextMessage<M extends ChildMessage, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  label: string,
  context: () => string = () => '',
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const more = () => (context() ? `\n${context()}` : '')
    const timer = setTimeout(() => done(new Error(`${label}: no "${type}" after ${timeoutMs} ms${more()}`)), timeoutMs)
    const onMessage = (m: M) => {
      if (m.type === type) done(undefined, m as Extract<M, { type: T }>)
      else if (m.type === 'failed') done(new Error(`${label} failed: ${(m as { message?: string }).message}`))
    }
    const onExit = () => done(new Error(`${label} exited${more()}`))
    const done = (err?: Error, value?: Extract<M, { type: T }>) => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(value as Extract<M, { type: T }>)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}
