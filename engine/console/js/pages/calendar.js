// Placeholder: the calendar page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'calendar',
  path: '#/calendar',
  nav: 'nav.calendar',
  title: 'calendar',
  scopes: [],
  render(main) {
    main.append(heading('calendar'), h('p', {}, 'Not built yet.'));
  },
};
