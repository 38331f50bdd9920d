import { render } from 'solid-js/web'
import { registerSW } from 'virtual:pwa-register'
import { App } from './App.tsx'
import { AppProvider, createAppStore } from './stores/app.tsx'
import './styles.css'

// The index opens first and the board paints from it; Automerge loads behind.
const store = await createAppStore()
render(
  () => (
    <AppProvider store={store}>
      <App />
    </AppProvider>
  ),
  document.getElementById('app')!,
)
registerSW({ immediate: true })
