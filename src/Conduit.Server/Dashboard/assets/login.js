// Login with an API key: posted as JSON; the node answers with an HttpOnly session cookie. The key is not stored here.
import { post, fill, errorBox } from './dashboard.js';

const form = document.getElementById('login');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = document.getElementById('key');
  try {
    await post('/api/login', { key: input.value });
    input.value = '';
    location.assign('/ui/');
  } catch (e) {
    fill('messages', errorBox(e));
  }
});
