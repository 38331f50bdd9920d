import { Show } from 'solid-js'
import { useApp } from '../stores/app.tsx'
import { Board } from './Board.tsx'
import { Welcome } from './Welcome.tsx'

/** The board when this device has a profile, the welcome page otherwise. */
export function Home() {
  const app = useApp()
  return (
    <Show when={app.profile()} fallback={<Welcome />}>
      <Board />
    </Show>
  )
}
