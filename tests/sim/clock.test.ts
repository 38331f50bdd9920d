import { afterEach, expect, it } from 'vitest'
import { SimClock } from './clock.ts'

let uninstall: (() => void) | undefined
afterEach(() => uninstall?.())

it('runs timers in time order, lets promises settle between them, repeats intervals and honours clears', async () => {
  const clock = new SimClock()
  uninstall = clock.install()
  const start = Date.now()
  const seen: string[] = []
  setTimeout(() => seen.push(`b@${Date.now() - start}`), 20)
  setTimeout(() => {
    seen.push(`a@${Date.now() - start}`)
    void Promise.resolve().then(() => seen.push('a-then'))
  }, 10)
  const never = setTimeout(() => seen.push('never'), 15)
  clearTimeout(never)
  const tick = setInterval(() => seen.push(`tick@${Date.now() - start}`), 8)
  await clock.advance(25)
  clearInterval(tick)
  await clock.advance(100)
  expect(seen).toEqual(['tick@8', 'a@10', 'a-then', 'tick@16', 'b@20', 'tick@24'])
  expect(Date.now() - start).toBe(125)
  expect(clock.pending).toBe(0)
})

it('forgets pending timers on reset and records what a timer throws', async () => {
  const clock = new SimClock()
  uninstall = clock.install()
  setTimeout(() => {
    throw new Error('boom')
  }, 1)
  await clock.advance(1)
  expect(clock.errors).toHaveLength(1)
  let ran = false
  setTimeout(() => (ran = true), 5)
  clock.reset()
  await clock.advance(10)
  expect(ran).toBe(false)
})
