import { App } from './app';
import { connectHost } from './host-bridge';
import './styles.css';

const root = document.getElementById('loss-lens-root');
if (root) {
  const app = new App(root, connectHost(window));
  // A handle for the harness, the tests and the benchmark; it holds nothing the page does not show.
  (window as unknown as { lossLens: App }).lossLens = app;
}
