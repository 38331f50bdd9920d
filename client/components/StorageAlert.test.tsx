import { describe, expect, it, vi } from 'vitest'
import { createSignal } from 'solid-js'
import { render } from 'solid-js/web'
import { StorageAlert } from './StorageAlert.tsx'
import type { StorageHealthState } from '../sync/storage-health.ts'

const healthy: StorageHealthState = { problem: undefined, unsaved: { documents: 0, index: 0 } }

function mount(initial: StorageHealthState, onRetry: () => Promise<void> = async () => {}) {
  const [health, setHealth] = createSignal(initial)
  const root = document.createElement('div')
  document.body.append(root)
  const dispose = render(() => <StorageAlert health={health()} onRetry={onRetry} />, root)
  return { root, setHealth, dispose }
}

describe('the storage banner', () => {
  it('says nothing while the device saves, speaks up when it is full, and goes once it saves again', () => {
    const { root, setHealth, dispose } = mount(healthy)
    expect(root.querySelector('[role="alert"]')).toBeNull()
    setHealth({ problem: 'quota', unsaved: { documents: 2, index: 1 } })
    const alert = root.querySelector('[role="alert"]')
    expect(alert?.textContent).toContain('La mémoire de cet appareil est pleine')
    expect(alert?.textContent).toContain('Rien n’est perdu')
    setHealth({ problem: 'failed', unsaved: { documents: 1, index: 0 } })
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('Placette n’arrive plus à enregistrer')
    setHealth(healthy)
    expect(root.querySelector('[role="alert"]')).toBeNull()
    dispose()
  })

  it('retries when asked, and says it is busy meanwhile', async () => {
    let finish!: () => void
    let calls = 0
    const { root, dispose } = mount({ problem: 'quota', unsaved: { documents: 1, index: 0 } }, () => {
      calls++
      return new Promise((resolve) => (finish = resolve))
    })
    const button = root.querySelector('button')!
    expect(button.textContent).toBe('Réessayer d’enregistrer')
    button.click()
    expect(calls).toBe(1)
    expect(button.disabled).toBe(true)
    finish()
    await vi.waitFor(() => expect(button.disabled).toBe(false))
    dispose()
  })
})
